# -*- coding: utf-8 -*-
# Copyright: cri-client authors
# Apache License 2.0 (see LICENSE in the repository root)
"""What every module of the collection shares: the import of cri-client on the target
(with Ansible's usual message when it is missing), the ``endpoint`` and ``timeout``
options, one client per run, the mapping of the library's errors to ``fail_json``,
``--diff`` output and the config hash kept in a label.

Only cri-client's public modules are used (``cri_client``, ``cri_client.errors``,
``cri_client.configs``, ``cri_client.pb``): the collection is an application of the
library's public API, like its command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

__all__ = ["CONFIG_HASH_LABEL", "CRIModule", "NotFoundError", "config_hash"]

import hashlib
import json
import sys
import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

try:
    from cri_client import CRIClient
    from cri_client.errors import CRIError, NotFoundError
except ImportError:
    CRI_CLIENT_IMPORT_ERROR = traceback.format_exc()
    CRIClient = None

    class CRIError(Exception):  # placeholders so the modules' except clauses stay valid
        pass

    class NotFoundError(CRIError):
        pass

else:
    CRI_CLIENT_IMPORT_ERROR = None

INSTALL_HINT = "Install it on the target with: {python} -m pip install cri-client"

CONFIG_HASH_LABEL = "cri-client.ansible/config-hash"
"""The label holding the hash of what a pod or container was created from: a later run
compares it with the hash of what it is asked for, and recreates only when they differ
(community.docker compares container settings the same way)."""

COMMON_ARGUMENT_SPEC = dict(
    endpoint=dict(type="str", fallback=(env_fallback, ["CONTAINER_RUNTIME_ENDPOINT"])),
    timeout=dict(type="float", default=60),
)


def config_hash(settings):
    """A short, stable hash of JSON-able ``settings`` (a label value: at most 63 chars)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class CRIModule(object):
    """An AnsibleModule with the common options and one cri-client client.

    ``run(action)`` opens the client, calls ``action(cri)`` and turns the library's
    errors (and its ValueError/TypeError for a value it refuses) into ``fail_json``
    with the runtime's own text; ``exit(changed, before, after, **result)`` adds the
    ``--diff`` when Ansible asked for one.
    """

    def __init__(self, argument_spec, **kwargs):
        spec = dict(COMMON_ARGUMENT_SPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        if CRI_CLIENT_IMPORT_ERROR is not None:
            hint = INSTALL_HINT.format(python=sys.executable)
            self.module.fail_json(
                msg="%s %s" % (missing_required_lib("cri-client"), hint),
                exception=CRI_CLIENT_IMPORT_ERROR,
            )
        self.params = self.module.params
        self.check_mode = self.module.check_mode

    def run(self, action):
        try:
            with CRIClient(self.params["endpoint"], timeout=self.params["timeout"]) as cri:
                return action(cri)
        except CRIError as err:
            self.fail(str(err), error=type(err).__name__, rpc=err.rpc, object_id=err.object_id)
        except (ValueError, TypeError) as err:
            self.fail(str(err), error=type(err).__name__)

    def fail(self, msg, **details):
        self.module.fail_json(msg=msg, **details)

    def exit(self, changed, before=None, after=None, **result):
        if self.module._diff and (before is not None or after is not None):
            result["diff"] = dict(before=before or {}, after=after or {})
        self.module.exit_json(changed=changed, **result)
