package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
)

func jsonFn(v interface{}) string {
	o := new(bytes.Buffer)
	enc := json.NewEncoder(o)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return o.String()
}

// The oracle for tests/unit/test_cli_gotemplate.py: Go's text/template run the way
// crictl's tmplExecuteRawJSON runs it (json.Decoder.UseNumber, missingkey=error, the
// functions json, title, lower, upper; title and lower/upper from the standard
// library here, not golang.org/x/text). Arguments: the template and the JSON
// document; prints "OUT:" and the output, or "ERR:" and the error.
func main() {
	funcs := template.FuncMap{"json": jsonFn, "title": strings.Title, "lower": strings.ToLower, "upper": strings.ToUpper}
	dec := json.NewDecoder(bytes.NewReader([]byte(os.Args[2])))
	dec.UseNumber()
	var raw interface{}
	if err := dec.Decode(&raw); err != nil {
		fmt.Print("ERR:failed to decode json: ", err)
		return
	}
	tmpl, err := template.New("tmplExecuteRawJSON").Funcs(funcs).Parse(os.Args[1])
	if err != nil {
		fmt.Print("ERR:", err)
		return
	}
	tmpl = tmpl.Option("missingkey=error")
	o := new(bytes.Buffer)
	if err := tmpl.Execute(o, raw); err != nil {
		fmt.Print("ERR:", err)
		return
	}
	fmt.Print("OUT:", o.String())
}
