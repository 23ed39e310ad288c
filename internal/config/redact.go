package config

import (
	"reflect"

	"gopkg.in/yaml.v3"
)

// Redaction replaces every non-empty secret in printed configuration.
const Redaction = "REDACTED"

// Redacted returns a deep copy of the configuration with every field tagged
// `secret:"true"` replaced by Redaction (empty secrets stay empty, so a reader can still
// tell "not set" from "set").
func (c *Config) Redacted() Config {
	// A YAML round trip is a deep copy that shares no slice or map with c.
	raw, err := yaml.Marshal(c)
	if err != nil {
		panic("config: marshal: " + err.Error()) // only plain data types: cannot fail
	}
	var out Config
	if err := yaml.Unmarshal(raw, &out); err != nil {
		panic("config: unmarshal: " + err.Error())
	}
	redact(reflect.ValueOf(&out).Elem())
	return out
}

// String renders the redacted configuration as YAML, for the startup log.
func (c *Config) String() string {
	r := c.Redacted()
	raw, _ := yaml.Marshal(&r)
	return string(raw)
}

func redact(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := v.Field(i)
			if t.Field(i).Tag.Get("secret") == "true" {
				redactValue(f)
				continue
			}
			redact(f)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			redact(v.Index(i))
		}
	}
}

func redactValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.String() != "" {
			v.SetString(Redaction)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.ValueOf(Redaction).Convert(v.Type().Elem()))
		}
	}
}
