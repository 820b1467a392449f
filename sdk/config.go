package sdk

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"time"
)

// Config is a channel's configuration for its connector: a JSON object,
// checked against the connector's ConfigFields (see Describe.Check).
// Values are as JSON decodes them; the getters return them typed.
type Config map[string]any

// String returns the string value of name, or "".
func (c Config) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Int returns the integer value of name, or 0.
func (c Config) Int(name string) int64 {
	switch v := c[name].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	case json.Number:
		n, _ := v.Int64()
		return n
	}
	return 0
}

// Bool returns the boolean value of name, or false.
func (c Config) Bool(name string) bool {
	b, _ := c[name].(bool)
	return b
}

// Duration returns the duration value of name, or 0.
func (c Config) Duration(name string) time.Duration {
	d, _ := time.ParseDuration(c.String(name))
	return d
}

// StringMap returns the string map value of name, or nil.
func (c Config) StringMap(name string) map[string]string {
	switch v := c[name].(type) {
	case map[string]string:
		return v
	case map[string]any:
		out := make(map[string]string, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	return nil
}

var connectorName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidConnectorName reports whether name can name a connector.
func ValidConnectorName(name string) bool { return connectorName.MatchString(name) }

// Validate checks a description: a valid name and version, and config
// fields with unique names and known types.
func (d *Description) Validate() error {
	var errs ValidationError
	if !ValidConnectorName(d.Name) {
		errs = append(errs, FieldError{Field: "name", Detail: fmt.Sprintf("%q must be 1-32 lower-case letters, digits or '-'", d.Name)})
	}
	if d.Version == "" {
		errs = append(errs, FieldError{Field: "version", Detail: "is required"})
	}
	seen := map[string]bool{}
	for i, f := range d.Config {
		where := fmt.Sprintf("config[%d]", i)
		if f.Name == "" || seen[f.Name] {
			errs = append(errs, FieldError{Field: where + ".name", Detail: fmt.Sprintf("%q is empty or not unique", f.Name)})
		}
		seen[f.Name] = true
		switch f.Type {
		case FieldString, FieldInteger, FieldBoolean, FieldDuration, FieldStringMap:
		default:
			errs = append(errs, FieldError{Field: where + ".type", Detail: fmt.Sprintf("%q is not a field type", f.Type)})
		}
		if f.Default != nil {
			if d := checkValue(f, f.Default); d != "" {
				errs = append(errs, FieldError{Field: where + ".default", Detail: d})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Check validates cfg against the description's fields and returns it with
// defaults filled in. Unknown fields, missing required fields and values
// of the wrong type are *Error of kind ErrInvalidConfig naming each field.
func (d *Description) Check(cfg Config) (Config, error) {
	out := Config{}
	var errs []FieldError
	known := map[string]bool{}
	for _, f := range d.Config {
		known[f.Name] = true
		v, ok := cfg[f.Name]
		if !ok || v == nil {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Detail: "is required"})
			} else if f.Default != nil {
				out[f.Name] = f.Default
			}
			continue
		}
		if detail := checkValue(f, v); detail != "" {
			errs = append(errs, FieldError{Field: f.Name, Detail: detail})
			continue
		}
		out[f.Name] = v
	}
	for name := range cfg {
		if !known[name] {
			errs = append(errs, FieldError{Field: name, Detail: fmt.Sprintf("is not a setting of connector %s", d.Name)})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, &Error{Kind: ErrInvalidConfig, Message: "the configuration is not valid", Fields: errs}
	}
	return out, nil
}

// checkValue returns what is wrong with v as a value of f, or "".
func checkValue(f ConfigField, v any) string {
	switch f.Type {
	case FieldString:
		s, ok := v.(string)
		if !ok {
			return "must be a string"
		}
		if f.Required && s == "" {
			return "must not be empty"
		}
	case FieldInteger:
		switch n := v.(type) {
		case float64:
			if n != float64(int64(n)) {
				return "must be a whole number"
			}
		case int, int64, json.Number:
		default:
			return "must be a whole number"
		}
	case FieldBoolean:
		if _, ok := v.(bool); !ok {
			return "must be true or false"
		}
	case FieldDuration:
		s, ok := v.(string)
		if !ok {
			return "must be a duration string such as \"5m\""
		}
		if _, err := time.ParseDuration(s); err != nil {
			return fmt.Sprintf("%q is not a duration such as \"5m\"", s)
		}
	case FieldStringMap:
		switch m := v.(type) {
		case map[string]string:
		case map[string]any:
			for k, x := range m {
				if _, ok := x.(string); !ok {
					return fmt.Sprintf("key %q must have a string value", k)
				}
			}
		default:
			return "must be an object of strings"
		}
	}
	return ""
}

// Redacted returns cfg with the values of secret fields replaced, for
// showing and logging.
func (d *Description) Redacted(cfg Config) Config {
	out := make(Config, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	for _, f := range d.Config {
		if _, ok := out[f.Name]; ok && f.Secret {
			out[f.Name] = RedactedValue
		}
	}
	return out
}

// RedactedValue stands for a secret in API responses.
const RedactedValue = "(secret)"
