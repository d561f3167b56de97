"""``-o go-template``, the ``inspect*`` shapes and filters, ``events``' flag checks and
``jsonschema``, run as a subprocess against a real containerd, stdout, stderr and the exit
code checked exactly where crictl's are exact."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import yaml

from cri_client import CRIClient

from .conftest import RuntimeUnderTest
from .test_cli import (
    CRICTL_CONTAINER_CONFIG_JSON,
    CRICTL_POD_CONFIG_JSON,
    cli,
    cli_env,
    cli_json,
    command,
    read_stream,
    sleeper,
)

NOTHING_FOUND = "cri-client: No IDs provided or nothing found per filter\n"


def test_inspect_go_template_gives_the_pid_for_nsenter(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "tmpl-" + suite["suite"])
    info = json.loads(cri.api.container_status(container_id=ctr.id, verbose=True).info["info"])
    pid = cli(runtime, "inspect", "-o", "go-template", "--template", "{{.info.pid}}", ctr.id)
    assert (pid.stdout, pid.stderr) == (f"{info['pid']}\n", "")
    state = cli(
        runtime,
        "inspect",
        "-o",
        "go-template",
        "--template",
        "{{.status.id}} {{.status.state}} {{.status.metadata.name}}",
        ctr.id,
    )
    assert state.stdout == f"{ctr.id} CONTAINER_RUNNING {ctr.name}\n"
    # several: the template runs once, on the array
    second = sleeper(cri, runtime, suite, log_dir, "tmpl2-" + suite["suite"])
    both = cli(
        runtime,
        "inspect",
        "-o",
        "go-template",
        "--template",
        '{{range .}}{{.status.id}}{{"\\n"}}{{end}}',
        ctr.id,
        second.id,
    )
    assert both.stdout == f"{ctr.id}\n{second.id}\n\n"
    # crictl's missingkey=error, with Go's message
    missing = cli(
        runtime, "inspect", "-o", "go-template", "--template", "{{.info.nope}}", ctr.id, code=1
    )
    assert missing.stdout == ""
    assert missing.stderr == (
        "cri-client: failed to template data: template: tmplExecuteRawJSON:1:7: executing "
        '"tmplExecuteRawJSON" at <.info.nope>: map has no entry for key "nope"\n'
    )
    unparsable = cli(
        runtime, "inspect", "-o", "go-template", "--template", "{{.status.id", ctr.id, code=1
    )
    assert (unparsable.stdout, unparsable.stderr) == (
        "",
        "cri-client: failed to generate go-template: template: tmplExecuteRawJSON:1: "
        "unclosed action\n",
    )
    unsupported = cli(
        runtime, "inspect", "-o", "go-template", "--template", '{{template "x"}}', ctr.id, code=1
    )
    assert unsupported.stderr == (
        "cri-client: failed to generate go-template: template: tmplExecuteRawJSON:1: "
        "{{template}} is not supported by cri-client's go-template\n"
    )
    # with another format crictl ignores --template
    plain = cli_json(runtime, "inspect", "-q", "--template", "{{.x}}", ctr.id)
    assert plain["status"]["id"] == ctr.id


def test_go_template_on_every_command_that_has_it(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "tmplall-" + suite["suite"])
    pod = ctr.pod()
    label = f"suite={suite['suite']}"

    def template(*args: str) -> str:
        done = cli(runtime, *args[:-1], "-o", "go-template", "--template", args[-1])
        assert done.stderr == ""
        return done.stdout

    assert template("inspectp", pod.id, "{{.status.metadata.name}}") == f"{pod.name}\n"
    image_id = cli_json(runtime, "inspect", "-q", ctr.id)["status"]["imageId"]
    if not image_id.startswith("sha256:"):  # containerd 1.6 reports the image reference
        image_id = cri.images.get(runtime.busybox_image).id
    assert template("inspecti", runtime.busybox_image, "{{.status.id}}") == f"{image_id}\n"
    conditions = "{{range .status.conditions}}{{.type}}={{.status}} {{end}}"
    assert "RuntimeReady=true NetworkReady=true" in template("info", conditions)
    assert template("version", "{{.runtimeName}} {{.runtimeApiVersion}}") == "containerd v1\n"
    listed = '{{range .containers}}{{.id}} {{.state}}{{"\\n"}}{{end}}'
    assert template("ps", "--label", label, listed) == f"{ctr.id} CONTAINER_RUNNING\n\n"
    pods = '{{range .items}}{{.metadata.name}} {{.state}}{{"\\n"}}{{end}}'
    assert template("pods", "--label", label, pods) == f"{pod.name} SANDBOX_READY\n\n"
    count = len(cli_json(runtime, "images", "-o", "json")["images"])
    assert template("images", "{{len .images}}") == f"{count}\n"
    mounts = "{{range .status.imageFilesystems}}{{.fsId.mountpoint}}{{end}}"
    assert template("imagefsinfo", mounts).startswith("/")


def test_inspect_shapes_and_filters(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    ctr = sleeper(cri, runtime, suite, log_dir, "filt-" + suite["suite"])
    other = sleeper(cri, runtime, suite, log_dir, "filt2-" + suite["suite"])
    label = f"suite={suite['suite']}"
    one = cli_json(runtime, "inspect", ctr.id)
    assert set(one) == {"status", "info"} and one["status"]["id"] == ctr.id
    several = cli_json(runtime, "inspect", "--label", label)
    assert isinstance(several, list)
    assert sorted(doc["status"]["id"] for doc in several) == sorted([ctr.id, other.id])
    as_yaml = yaml.safe_load(cli(runtime, "inspect", "-o", "yaml", "-q", ctr.id).stdout)
    assert as_yaml["status"]["id"] == ctr.id and "info" not in as_yaml
    yaml_list = yaml.safe_load(cli(runtime, "inspect", "-o", "yaml", "-q", ctr.id, other.id).stdout)
    assert [doc["status"]["id"] for doc in yaml_list] == [ctr.id, other.id]
    for filters in (
        ("--name", f"^{ctr.name}$"),
        ("--pod", ctr.pod_id),
        ("--label", label, "--name", "^filt-"),
        ("--state", "running", "--name", f"^{ctr.name}$"),
        ("-a", "--name", f"^{ctr.name}$"),
        ("--image", runtime.busybox_image, "--name", f"^{ctr.name}$"),
    ):
        found = cli_json(runtime, "inspect", "-q", *filters)
        assert isinstance(found, dict) and found["status"]["id"] == ctr.id, filters
    other.stop(timeout=0)
    exited = cli_json(runtime, "inspect", "-q", "--state", "exited", "--label", label)
    assert exited["status"]["id"] == other.id
    # nothing selected: crictl's error line, its help on stdout, exit 0
    for args in (
        ("inspect", "--name", "^no-such-container$"),
        ("inspect", "--label", label, "--state", "created"),
        ("inspectp", "--name", "^no-such-pod$"),
        ("inspecti", "--name", "127.0.0.1:1/no/such:image"),
    ):
        nothing = cli(runtime, *args)
        assert nothing.stderr == NOTHING_FOUND, args
        assert nothing.stdout.startswith("usage: cri-client " + args[0]), args


def test_events_checks_its_flags_before_subscribing(runtime: RuntimeUnderTest) -> None:
    for args, message in (
        (("-o", "xml"), 'don\'t support "xml" format'),
        (("-o", "table"), 'don\'t support "table" format'),
        (("--template", "{{.x}}"), 'template can\'t be used with "json" format'),
        (("-o", "yaml", "--template", "{{.x}}"), 'template can\'t be used with "yaml" format'),
        (
            ("-o", "go-template", "--template", "{{.x"),
            "failed to parse go-template: template: :1: unclosed action",
        ),
        (
            ("-o", "go-template", "--template", "{{nope .x}}"),
            'failed to parse go-template: template: :1: function "nope" not defined',
        ),
    ):
        done = cli(runtime, "events", *args, code=1, timeout=30)
        assert (done.stdout, done.stderr) == ("", f"cri-client: {message}\n"), args


def test_events_through_a_go_template(
    cri: CRIClient, runtime: RuntimeUnderTest, suite: dict[str, str], log_dir: str
) -> None:
    if runtime.version == "1.6":  # no events: the flags were fine, the runtime says no
        failed = cli(
            runtime, "events", "-o", "go-template", "--template", "{{.x}}", code=1, timeout=30
        )
        assert "UNIMPLEMENTED" in failed.stderr
        return
    # Events left over from earlier tests may come without a pod (1.7 delivers a deleted
    # container's event after its pod is gone): `index` reads a missing key as nil, as in Go.
    template = (
        "{{.containerId}} {{.containerEventType}} "
        '{{with index . "podSandboxStatus"}}{{.metadata.name}}{{else}}-{{end}}'
    )
    process = subprocess.Popen(
        command(runtime, "events", "-o", "go-template", "--template", template),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )
    try:
        time.sleep(1.5)  # subscribed
        ctr = sleeper(cri, runtime, suite, log_dir, "tmplev-" + suite["suite"])
        wanted = f"{ctr.id} CONTAINER_CREATED_EVENT {ctr.pod().name}"
        lines = read_stream(process, next_line, lambda line: line == wanted)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and stderr == b"", stderr
    assert all(len(line.split(" ")) == 3 for line in lines), lines


def next_line(buffer: str) -> tuple[str, str] | None:
    line, newline, rest = buffer.partition("\n")
    return (line, rest) if newline else None


def test_jsonschema_of_the_config_files() -> None:
    pod_schema = json.loads(cli(None, "pull", "jsonschema").stdout)
    assert pod_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert pod_schema["$ref"] == "#/$defs/PodSandboxConfig"
    assert json.loads(cli(None, "runp", "js").stdout) == pod_schema
    container_schema = json.loads(cli(None, "create", "jsonschema", "-c").stdout)
    assert container_schema["$ref"] == "#/$defs/ContainerConfig"
    both = cli(None, "run", "jsonschema", "-p", "-c")
    assert both.stderr == ""
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(both.stdout)
    second, _ = decoder.raw_decode(both.stdout[end:].lstrip())
    assert (first, second) == (pod_schema, container_schema)
    helped = cli(None, "create", "jsonschema")
    assert helped.stdout.startswith("usage: cri-client create jsonschema") and helped.stderr == ""
    # crictl's own example configs use only what the schema allows
    for schema, example in (
        (pod_schema, json.loads(CRICTL_POD_CONFIG_JSON)),
        (container_schema, json.loads(CRICTL_CONTAINER_CONFIG_JSON)),
    ):
        root = schema["$defs"][schema["$ref"].rsplit("/", 1)[1]]
        assert set(example) <= set(root["properties"]), set(example) - set(root["properties"])
