"""docker credential helpers: ``docker-credential-<name> get``, the one place where
the library runs a program to find credentials.

The protocol is docker-credential-helpers': the server address goes to the helper's
stdin, and it answers ``{"ServerURL": .., "Username": .., "Secret": ..}`` on stdout,
or exits non-zero with its error on stdout ("credentials not found in native
keychain" means it has none, which docker treats as an anonymous pull, not an
error). A ``<token>`` username means the secret is an identity token.

It lives in ``_core`` although it waits for a child process: it makes no RPC and
no network call of its own, and :mod:`cri_client._core.auth`, which decides
*whether* a helper runs, stays a pure reading of files. The asyncio client calls it
in a worker thread. ``subprocess`` and ``shutil`` are imported on the first run,
not at import: most programs never pull, and pulls with ``auth=`` never get here.
The secret is never logged, put in an exception or chained into one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cri_client._proto import api_pb2 as pb
from cri_client.errors import CredentialHelperError

__all__ = ["run_helper"]

NOT_FOUND = "credentials not found in native keychain"
"""What every helper built on docker-credential-helpers prints when it has nothing."""
TOKEN_USERNAME = "<token>"
"""The username docker's helpers store with an identity token instead of a password."""
_SHOWN_OUTPUT = 500  # characters of a failing helper's output kept in the error


def run_helper(
    helper: str, server: str, registry: str, origin: str, env: Mapping[str, str]
) -> pb.AuthConfig | None:
    """Ask ``docker-credential-<helper>`` for the credentials of ``server`` (what docker
    passes: the registry host, ``https://index.docker.io/v1/`` for Docker Hub); None
    when it has none. ``origin`` (which setting named it) and ``registry`` are for the
    error message; the ``AuthConfig`` leaves ``server_address`` empty, as
    :mod:`cri_client._core.auth` explains."""
    import shutil
    import subprocess

    program = f"docker-credential-{helper}"

    def failure(what: str) -> CredentialHelperError:
        return CredentialHelperError(
            f"{program} ({origin}) for registry {registry} {what}", helper=helper, registry=registry
        )

    path = shutil.which(program, path=env.get("PATH"))
    if path is None:
        raise failure("is not on PATH: install it, fix the config or pass auth=")
    try:
        done = subprocess.run(
            [path, "get"], input=server, capture_output=True, text=True, env=dict(env), check=False
        )
    except OSError as exc:
        raise failure(f"could not be run ({exc.strerror})") from None
    if done.returncode != 0:
        # Helpers report errors on stdout (docker-credential-helpers' Serve), some on stderr.
        said = " ".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
        if done.stdout.strip() == NOT_FOUND:
            return None
        raise failure(f"failed (exit status {done.returncode}): {said[:_SHOWN_OUTPUT]}")
    answer = _parse(done.stdout)
    if answer is None:
        # Not quoted: a malformed answer may still hold the secret.
        raise failure("answered with something that is not a JSON object of strings")
    username, secret = answer.get("Username", ""), answer.get("Secret", "")
    if not (username or secret):
        return None
    if username == TOKEN_USERNAME:
        return pb.AuthConfig(identity_token=secret)
    return pb.AuthConfig(username=username, password=secret)


def _parse(stdout: str) -> dict[str, str] | None:
    """The helper's answer, or None; the decoder's exception (which holds the whole
    text in ``.doc``) never leaves this function, so it cannot be chained to an error."""
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(answer, dict) or not all(isinstance(v, str) for v in answer.values()):
        return None
    return answer
