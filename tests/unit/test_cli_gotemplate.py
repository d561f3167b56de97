"""The go-template engine against Go's own text/template.

Every expected value below is what Go (1.19's ``text/template``, run the way crictl's
``tmplExecuteRawJSON`` runs it: ``json.Decoder.UseNumber``, ``missingkey=error``, the
functions ``json``, ``title``, ``lower``, ``upper``) printed for the same template and
document: ``OUT:`` and the output, or ``ERR:`` and the error.
``scripts/check_go_template_answers.py`` asks Go again (it needs a Go toolchain).
"""

# ruff: noqa: E501  (the table holds Go's answers verbatim, one case a line)
from __future__ import annotations

import json

import pytest

from cri_client.cli.gotemplate import TemplateError, TemplateExecError, go_data, parse

DOC = '{"status":{"id":"abc123","state":"CONTAINER_RUNNING","labels":{"app":"web","io.kubernetes.pod.name":"p1"},"mounts":[],"exitCode":0,"createdAt":"2026-01-01T00:00:00Z","metadata":{"name":"c1","attempt":0}},"info":{"pid":1234,"big":1234567,"neg":-5,"f":1.5,"nul":null,"t":true,"fa":false,"list":[1,"a",null,true,{"k":"v"}],"empty":"","html":"<a&b>","uni":"hé\u2028","config":{"metadata":{"name":"c1"},"envs":[{"key":"A","value":"1"},{"key":"B","value":"2"}]}}}'
LIST = '[{"status":{"id":"a"},"info":{"pid":1}},{"status":{"id":"b"},"info":{"pid":2}}]'

GO_ANSWERS = [
    ("{{.info.pid}}", DOC, "OUT:1234"),
    ("{{.status.id}}", DOC, "OUT:abc123"),
    ("{{.status.labels}}", DOC, "OUT:map[app:web io.kubernetes.pod.name:p1]"),
    ("{{.info.list}}", DOC, "OUT:[1 a <nil> true map[k:v]]"),
    ("{{.info.nul}}", DOC, "OUT:<no value>"),
    (
        "{{.info.nul.x}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:7: executing "tmplExecuteRawJSON" at <.info.nul.x>: nil pointer evaluating interface {}.x',
    ),
    (
        "{{.info.pid.x}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:7: executing "tmplExecuteRawJSON" at <.info.pid.x>: can\'t evaluate field x in type interface {}',
    ),
    (
        "{{.status.id.x}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:9: executing "tmplExecuteRawJSON" at <.status.id.x>: can\'t evaluate field x in type interface {}',
    ),
    (
        "{{.info.list.x}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:7: executing "tmplExecuteRawJSON" at <.info.list.x>: can\'t evaluate field x in type interface {}',
    ),
    (
        "{{.info.missing}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:7: executing "tmplExecuteRawJSON" at <.info.missing>: map has no entry for key "missing"',
    ),
    (
        "{{.missing.deeper}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:10: executing "tmplExecuteRawJSON" at <.missing.deeper>: map has no entry for key "missing"',
    ),
    (
        "x\n{{.info.pid}} {{.info.bad}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:2:21: executing "tmplExecuteRawJSON" at <.info.bad>: map has no entry for key "bad"',
    ),
    (
        "{{.info.big}} {{.info.neg}} {{.info.f}} {{.info.t}} {{.info.fa}}",
        DOC,
        "OUT:1234567 -5 1.5 true false",
    ),
    ("{{.}}", '{"a":1}', "OUT:map[a:1]"),
    ("{{range .}}{{.status.id}}:{{.info.pid}} {{end}}", LIST, "OUT:a:1 b:2 "),
    ("{{range $i, $v := .}}{{$i}}={{$v.status.id}};{{end}}", LIST, "OUT:0=a;1=b;"),
    ("{{range $v := .}}{{$v.status.id}}{{end}}", LIST, "OUT:ab"),
    (
        "{{range $k, $v := .status.labels}}{{$k}}={{$v}}\n{{end}}",
        DOC,
        "OUT:app=web\nio.kubernetes.pod.name=p1\n",
    ),
    ("{{range .status.mounts}}x{{else}}none{{end}}", DOC, "OUT:none"),
    ("{{range .info.nul}}x{{else}}none{{end}}", DOC, "OUT:none"),
    (
        "{{range .info.pid}}x{{end}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:13: executing "tmplExecuteRawJSON" at <.info.pid>: range can\'t iterate over 1234',
    ),
    (
        "{{range .status.id}}x{{end}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:15: executing "tmplExecuteRawJSON" at <.status.id>: range can\'t iterate over abc123',
    ),
    ("{{if .info.t}}yes{{else}}no{{end}}", DOC, "OUT:yes"),
    (
        "{{if .info.fa}}yes{{else if .info.empty}}e{{else if .info.pid}}pid{{else}}no{{end}}",
        DOC,
        "OUT:pid",
    ),
    ("{{if .status.exitCode}}nonzero{{else}}zero{{end}}", DOC, "OUT:nonzero"),
    ("{{if .status.mounts}}m{{else}}nm{{end}}", DOC, "OUT:nm"),
    ('{{if eq .status.state "CONTAINER_RUNNING"}}running{{end}}', DOC, "OUT:running"),
    ('{{if ne .status.state "CONTAINER_RUNNING"}}x{{else}}running{{end}}', DOC, "OUT:running"),
    ('{{eq .info.pid "1234"}}', DOC, "OUT:true"),
    (
        "{{eq .info.pid 1234}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <eq .info.pid 1234>: error calling eq: incompatible types for comparison',
    ),
    ('{{eq .info.nul "a"}}', DOC, "OUT:false"),
    ('{{eq .status.id "x" "abc123"}}', DOC, "OUT:true"),
    (
        "{{eq .status.labels .status.labels}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <eq .status.labels .status.labels>: error calling eq: non-comparable type map[app:web io.kubernetes.pod.name:p1]: map[string]interface {}',
    ),
    ("{{eq .info.t true}}", DOC, "OUT:true"),
    (
        "{{eq 1 1}} {{eq 1 2}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 3 2}}",
        DOC,
        "OUT:true false true true true false true",
    ),
    ('{{lt .info.pid "2"}}', DOC, "OUT:true"),
    (
        "{{lt .info.pid 2}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <lt .info.pid 2>: error calling lt: incompatible types for comparison',
    ),
    (
        "{{lt .info.t .info.t}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <lt .info.t .info.t>: error calling lt: invalid type for comparison',
    ),
    ("{{with .status.metadata}}{{.name}}/{{.attempt}}{{end}}", DOC, "OUT:c1/0"),
    ("{{with .info.empty}}x{{else}}empty{{end}}", DOC, "OUT:empty"),
    ("{{with $x := .status.id}}{{$x}}{{end}}", DOC, "OUT:abc123"),
    ('{{index .status.labels "io.kubernetes.pod.name"}}', DOC, "OUT:p1"),
    ('{{index .status.labels "nope"}}', DOC, "OUT:<no value>"),
    ("{{index .info.list 1}}", DOC, "OUT:a"),
    (
        "{{index .info.list 9}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <index .info.list 9>: error calling index: index out of range: 9',
    ),
    (
        '{{index .info.list "a"}}',
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <index .info.list "a">: error calling index: cannot index slice/array with type string',
    ),
    ('{{index .info.list 4 "k"}}', DOC, "OUT:v"),
    ("{{index .info.pid 0}}", DOC, "OUT:49"),
    ('{{with index . "nope"}}{{.x}}{{else}}-{{end}}', DOC, "OUT:-"),
    ('{{with index . "status"}}{{.metadata.name}}{{else}}-{{end}}', DOC, "OUT:c1"),
    ("{{(index .info.config.envs 1).value}}", DOC, "OUT:2"),
    (
        "{{len .info.list}} {{len .status.labels}} {{len .status.id}} {{len .info.uni}}",
        DOC,
        "OUT:5 2 6 6",
    ),
    ("{{len .info.pid}}", DOC, "OUT:4"),
    (
        "{{len .info.t}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <len .info.t>: error calling len: len of type bool',
    ),
    ("{{json .status.labels}}", DOC, 'OUT:{"app":"web","io.kubernetes.pod.name":"p1"}\n'),
    (
        "{{json .info}}",
        DOC,
        'OUT:{"big":1234567,"config":{"envs":[{"key":"A","value":"1"},{"key":"B","value":"2"}],"metadata":{"name":"c1"}},"empty":"","f":1.5,"fa":false,"html":"\\u003ca\\u0026b\\u003e","list":[1,"a",null,true,{"k":"v"}],"neg":-5,"nul":null,"pid":1234,"t":true,"uni":"hé\\u2028"}\n',
    ),
    ("{{.status.metadata | json}}", DOC, 'OUT:{"attempt":0,"name":"c1"}\n'),
    (
        "{{json .info.nul}}{{json .info.pid}}{{json .info.html}}",
        DOC,
        'OUT:null\n1234\n"\\u003ca\\u0026b\\u003e"\n',
    ),
    ('{{printf "%s-%d" .status.id 5}}', DOC, "OUT:abc123-5"),
    (
        '{{printf "%v %v %v %v" .info.pid .info.t .info.list .status.labels}}',
        DOC,
        "OUT:1234 true [1 a <nil> true map[k:v]] map[app:web io.kubernetes.pod.name:p1]",
    ),
    (
        '{{printf "%q" .status.id}} {{printf "%q" .info.uni}} {{printf "%q" 65}}',
        DOC,
        'OUT:"abc123" "hé\\u2028" \'A\'',
    ),
    ('{{printf "%t %t" .info.t .status.id}}', DOC, "OUT:true %!t(string=abc123)"),
    ('{{printf "%x %X %x" .status.id 255 .info.pid}}', DOC, "OUT:616263313233 FF 31323334"),
    (
        '{{printf "%5d|%-5d|%05d|%5s|%-5s|" 42 42 42 "ab" "ab"}}',
        DOC,
        "OUT:   42|42   |00042|   ab|ab   |",
    ),
    (
        '{{printf "%.2f %f %e %g %v" 3.14159 2.5 1234.5 0.0001 1.5}}',
        DOC,
        "OUT:3.14 2.500000 1.234500e+03 0.0001 1.5",
    ),
    ('{{printf "%d %s" .info.nul .info.nul}}', DOC, "OUT:%!d(<nil>) %!s(<nil>)"),
    (
        '{{printf "%d"}} {{printf "%d" 1 2}} {{printf "100%%"}} {{printf "%"}}',
        DOC,
        "OUT:%!d(MISSING) 1%!(EXTRA int=2) 100% %!(NOVERB)",
    ),
    (
        '{{printf "%d" .info.list}} {{printf "%s" .info.list}}',
        DOC,
        "OUT:[%!d(json.Number=1) %!d(string=a) <nil> %!d(bool=true) map[%!d(string=k):%!d(string=v)]] [1 a <nil> %!s(bool=true) map[k:v]]",
    ),
    ('{{printf "%s" .status.labels}}', DOC, "OUT:map[app:web io.kubernetes.pod.name:p1]"),
    (
        '{{printf "%s" 5}} {{printf "%d" "x"}} {{printf "%z" 1}}',
        DOC,
        "OUT:%!s(int=5) %!d(string=x) %!z(int=1)",
    ),
    ('{{printf "%.3s" "abcdef"}} {{printf "%c" 65}}', DOC, "OUT:abc A"),
    ("{{printf .status.id}}", DOC, "OUT:abc123"),
    (
        "{{printf .info.pid}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:14: executing "tmplExecuteRawJSON" at <.info.pid>: wrong type for value; expected string; got json.Number',
    ),
    ("{{println .status.id .info.pid}}", DOC, "OUT:abc123 1234\n"),
    ("{{println}}", DOC, "OUT:\n"),
    ('{{print .status.id .info.pid 1 2 "x" 3}}', DOC, "OUT:abc12312341 2x3"),
    ('{{.status.id | printf "%s!"}}', DOC, "OUT:abc123!"),
    ('{{.status.id | printf "%s-%s" "a"}}', DOC, "OUT:a-abc123"),
    ("{{.status.id | len}}", DOC, "OUT:6"),
    (
        "{{- .status.id -}}  \n  {{- .info.pid }} x {{.status.id -}} \n y",
        DOC,
        "OUT:abc1231234 x abc123y",
    ),
    ("a  {{- /* comment */ -}}  b {{/* c2 */}}c", DOC, "OUT:ab c"),
    ('{{$x := .status.id}}{{$x}} {{$x = "new"}}{{$x}}', DOC, "OUT:abc123 new"),
    ("{{$}}", '{"a":"b"}', "OUT:map[a:b]"),
    ("{{range .info.list}}{{$.status.id}}{{end}}", DOC, "OUT:abc123abc123abc123abc123abc123"),
    (
        "{{and .info.t .status.id}} {{and .info.fa .status.id}} {{or .info.empty .status.id}} {{or .info.empty .info.fa}} {{not .info.t}}",
        DOC,
        "OUT:abc123 false abc123 false false",
    ),
    ("{{and .info.fa .missing}}", DOC, "OUT:false"),
    (
        '{{lower .status.state}} {{upper .status.id}} {{title "hello wor-ld"}}',
        DOC,
        "OUT:container_running ABC123 Hello Wor-Ld",
    ),
    (
        "{{lower .info.pid}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:13: executing "tmplExecuteRawJSON" at <.info.pid>: wrong type for value; expected string; got json.Number',
    ),
    (
        "{{true}} {{false}} {{1}} {{-3}} {{1.5}} {{1.0}} {{1e6}} {{1234567.0}} {{1e21}} {{0.00001}} {{0x1F}} {{'a'}} {{\"s\\tq\"}} {{`raw`}}",
        DOC,
        "OUT:true false 1 -3 1.5 1 1e+06 1.234567e+06 1e+21 1e-05 31 97 s\tq raw",
    ),
    (
        "{{nil}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <nil>: nil is not a command',
    ),
    (
        "{{.status.id 1}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:9: executing "tmplExecuteRawJSON" at <.status.id>: id is not a method but has arguments',
    ),
    (
        '{{"x" 1}}',
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <"x">: can\'t give argument to non-function "x"',
    ),
    (
        "{{.status.id | .status.id}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:22: executing "tmplExecuteRawJSON" at <.status.id>: id is not a method but has arguments',
    ),
    ("{{.info.config.envs}}", DOC, "OUT:[map[key:A value:1] map[key:B value:2]]"),
    ("{{range .info.config.envs}}{{.key}}={{.value}} {{end}}", DOC, "OUT:A=1 B=2 "),
    ("{{.info.html}} {{.info.uni}}", DOC, "OUT:<a&b> hé\u2028"),
    ("{{.status.id", DOC, "ERR:template: tmplExecuteRawJSON:1: unclosed action"),
    ("{{end}}", DOC, "ERR:template: tmplExecuteRawJSON:1: unexpected {{end}}"),
    ("{{if .x}}", DOC, "ERR:template: tmplExecuteRawJSON:1: unexpected EOF"),
    ("{{else}}", DOC, "ERR:template: tmplExecuteRawJSON:1: unexpected {{else}}"),
    ("{{foo .x}}", DOC, 'ERR:template: tmplExecuteRawJSON:1: function "foo" not defined'),
    ("{{$nope}}", DOC, 'ERR:template: tmplExecuteRawJSON:1: undefined variable "$nope"'),
    ("{{}}", DOC, "ERR:template: tmplExecuteRawJSON:1: missing value for command"),
    ("{{if}}{{end}}", DOC, "ERR:template: tmplExecuteRawJSON:1: missing value for if"),
    (
        "{{.x | 3}}",
        DOC,
        "ERR:template: tmplExecuteRawJSON:1: non executable command in pipeline stage 2",
    ),
    ("{{.x !}}", DOC, 'ERR:template: tmplExecuteRawJSON:1: unexpected "!" in operand'),
    ('{{"unterminated}}', DOC, "ERR:template: tmplExecuteRawJSON:1: unterminated quoted string"),
    ("{{(.x}}", DOC, "ERR:template: tmplExecuteRawJSON:1: unclosed left paren"),
    ("{{.x)}}", DOC, 'ERR:template: tmplExecuteRawJSON:1: unexpected ")" in command'),
    ("x\ny\n{{foo}}", DOC, 'ERR:template: tmplExecuteRawJSON:3: function "foo" not defined'),
    (
        "{{$a, $b := .x}}",
        DOC,
        "ERR:template: tmplExecuteRawJSON:1: too many declarations in command",
    ),
    ("{{/* unclosed }}", DOC, "ERR:template: tmplExecuteRawJSON:1: unclosed comment"),
    (
        "{{range $i, $v := .info.list}}{{end}}{{$i}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1: undefined variable "$i"',
    ),
    (
        "{{len}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <len>: wrong number of args for len: want 1 got 0',
    ),
    (
        "{{eq .status.id}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <eq .status.id>: error calling eq: missing argument for comparison',
    ),
    (
        "{{not 1 2}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:2: executing "tmplExecuteRawJSON" at <not>: wrong number of args for not: want 1 got 2',
    ),
    ('{{ .status.id }} {{ .info.pid | printf "%s" }}', DOC, "OUT:abc123 1234"),
    ("{{-3}} {{- 3}}", DOC, "OUT:-33"),
    (
        "line1\nline2 {{.info.nope}}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:2:13: executing "tmplExecuteRawJSON" at <.info.nope>: map has no entry for key "nope"',
    ),
    ('{{range .info.config.envs}}{{if eq .key "B"}}{{.value}}{{end}}{{end}}', DOC, "OUT:2"),
    ("{{range $i, $e := .info.config.envs}}{{if $i}},{{end}}{{$e.key}}{{end}}", DOC, "OUT:A,B"),
    ("{{range .info.list}}{{.}}|{{end}}", DOC, "OUT:1|a|<no value>|true|map[k:v]|"),
    ("{{with .info.nul}}x{{else}}null{{end}}", DOC, "OUT:null"),
    ("{{with .status}}{{with .metadata}}{{.name}}{{end}}{{end}}", DOC, "OUT:c1"),
    ('{{if and .info.t (eq .status.id "abc123")}}both{{end}}', DOC, "OUT:both"),
    ("{{if not .info.list}}e{{else}}ne{{end}}", DOC, "OUT:ne"),
    ('{{$n := len .info.list}}{{$n}} {{printf "%d items" $n}}', DOC, "OUT:5 5 items"),
    ("{{(index .info.list 4).k}} {{(.status.metadata).name}}", DOC, "OUT:v c1"),
    (
        "{{range .}}{{json .}}{{end}}",
        LIST,
        'OUT:{"info":{"pid":1},"status":{"id":"a"}}\n{"info":{"pid":2},"status":{"id":"b"}}\n',
    ),
    (
        "{{json .}}",
        LIST,
        'OUT:[{"info":{"pid":1},"status":{"id":"a"}},{"info":{"pid":2},"status":{"id":"b"}}]\n',
    ),
    ('{{.status.id | printf "%s" | len}}', DOC, "OUT:6"),
    ('{{printf "%v" .info.nul}} {{printf "%s|%v" .info.html .info.f}}', DOC, "OUT:<nil> <a&b>|1.5"),
    (
        "{{if .x}}a{{else}}b{{else}}c{{end}}",
        DOC,
        "ERR:template: tmplExecuteRawJSON:1: expected end; found {{else}}",
    ),
    (
        "{{range .x}}{{else if .y}}{{end}}",
        DOC,
        "ERR:template: tmplExecuteRawJSON:1: unexpected <if> in input",
    ),
    ("{{.info.pid.String}}", DOC, "OUT:1234"),
    (
        '{{printf "%#v" .x}}',
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:15: executing "tmplExecuteRawJSON" at <.x>: map has no entry for key "x"',
    ),
    ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", DOC, "OUT:2"),
    (
        "{{ if true }}{{ $y := 2 }}{{ end }}{{ $y }}",
        DOC,
        'ERR:template: tmplExecuteRawJSON:1: undefined variable "$y"',
    ),
    ('{{.status.labels.app}} {{index . "status" "labels" "app"}}', DOC, "OUT:web web"),
    (
        '{{printf "%s" 1.5}} {{printf "%d" true}} {{printf "%6.2f|" 3.14159}}',
        DOC,
        "OUT:%!s(float64=1.5) %!d(bool=true)   3.14|",
    ),
    ('{{len "héllo"}} {{upper "héllo"}}', DOC, "OUT:6 HÉLLO"),
    ('{{.info.uni | printf "%q"}} {{printf "%q" "a\\x01b"}}', DOC, 'OUT:"hé\\u2028" "a\\x01b"'),
    (
        '{{.info.pid.String}} {{.info.pid.Int64}} {{.info.f.Float64}} {{printf "%d" .info.pid.Int64}} {{.info.f.Int64}}',
        DOC,
        'ERR:template: tmplExecuteRawJSON:1:100: executing "tmplExecuteRawJSON" at <.info.f.Int64>: error calling Int64: strconv.ParseInt: parsing "1.5": invalid syntax',
    ),
    ('{{.info.pid.Int64 | printf "%05d"}}', DOC, "OUT:01234"),
]


@pytest.mark.parametrize(("template", "document", "expected"), GO_ANSWERS)
def test_answers_as_go_does(template: str, document: str, expected: str) -> None:
    try:
        answer = "OUT:" + parse(template).execute(go_data(json.loads(document)))
    except (TemplateError, TemplateExecError) as err:
        answer = "ERR:" + str(err)
    assert answer == expected


@pytest.mark.parametrize(
    ("template", "refused"),
    [
        ('{{define "x"}}{{end}}', "{{define}}"),
        ('{{template "x"}}', "{{template}}"),
        ('{{block "x" .}}{{end}}', "{{block}}"),
        ("{{range .a}}{{break}}{{end}}", "{{break}}"),
        ("{{range .a}}{{continue}}{{end}}", "{{continue}}"),
        ("{{slice .x 1}}", "the function slice"),
        ("{{html .x}}", "the function html"),
        ("{{js .x}}", "the function js"),
        ("{{urlquery .x}}", "the function urlquery"),
        ("{{call .x}}", "the function call"),
    ],
)
def test_what_the_subset_leaves_out_is_a_parse_error(template: str, refused: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(template, "")
    assert str(caught.value) == (
        f"template: :1: {refused} is not supported by cri-client's go-template"
    )


def test_printf_sharp_flag_is_refused_not_misrendered() -> None:
    with pytest.raises(TemplateExecError, match="the # flag of printf is not supported"):
        parse('{{printf "%#v" .}}').execute(go_data({"a": 1}))


def test_numbers_keep_their_json_text() -> None:
    data = go_data({"pid": 1234, "big": 12345678901234567890, "f": 0.5})
    assert parse("{{.pid}} {{.big}} {{.f}}").execute(data) == "1234 12345678901234567890 0.5"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{with .a}}A{{else with .b}}B={{.}}{{else}}C{{end}}", "B=2"),
        ("{{with .a}}A{{else with .z}}B{{else}}C{{end}}", "C"),
        ("{{if .a}}A{{else if .b}}B{{else}}C{{end}}", "B"),
    ],
)
def test_else_if_and_go_1_23s_else_with(template: str, expected: str) -> None:
    assert parse(template).execute(go_data({"a": False, "b": 2, "z": ""})) == expected


def test_else_with_belongs_to_with_only() -> None:
    with pytest.raises(TemplateError, match="unexpected <with> in input"):
        parse("{{if .a}}A{{else with .b}}B{{end}}")


def test_title_is_crictls_cases_title() -> None:
    """``cases.Title(language.Und, cases.NoLower)``: words by Unicode's rules, so an
    apostrophe stays inside a word, and the rest of each word is kept as it is."""
    text = parse('{{title "hello wOrld don\'t x_y"}}').execute(go_data({}))
    assert text == "Hello WOrld Don't X_y"
