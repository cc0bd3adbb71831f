package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// applyEnv walks v's fields by their yaml tags and overrides each one whose variable
// (PREFIX__TAG, upper case) is set.
func applyEnv(v reflect.Value, prefix string, lookup LookupEnv) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		field := t.Field(i)
		tag, _, _ := strings.Cut(field.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		name := strings.ToUpper(tag)
		if prefix != "" {
			name = prefix + EnvDelimiter + name
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			if err := applyEnv(fv, name, lookup); err != nil {
				return err
			}
			continue
		}
		raw, ok := lookup(name)
		if !ok {
			continue
		}
		if err := setFromString(fv, raw); err != nil {
			return fmt.Errorf("environment variable %s=%q: %w", name, raw, err)
		}
	}
	return nil
}

// setFromString parses raw into fv according to fv's type.
func setFromString(fv reflect.Value, raw string) error {
	if fv.Type() == reflect.TypeFor[time.Duration]() { // "30s", "5m", ...
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("want a duration such as 30s or 5m: %w", err)
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Bool:
		b, err := parseBool(raw)
		if err != nil {
			return err
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, fv.Type().Bits())
		if err != nil {
			return fmt.Errorf("want an integer: %w", err)
		}
		fv.SetInt(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", fv.Type())
		}
		items, err := parseList(raw)
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported setting type %s", fv.Type())
	}
	return nil
}

// parseBool accepts what pydantic accepts: 1/0, true/false, yes/no, on/off, t/f, y/n.
func parseBool(raw string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "1", "true", "t", "yes", "y", "on":
		return true, nil
	case "0", "false", "f", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("want a boolean (true/false, 1/0, yes/no, on/off)")
}

// parseList accepts a JSON array of strings (as pydantic does) or comma-separated values.
func parseList(raw string) ([]string, error) {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "[") {
		var items []string
		if err := json.Unmarshal([]byte(raw), &items); err != nil {
			return nil, fmt.Errorf("want a JSON array of strings: %w", err)
		}
		return items, nil
	}
	items := []string{}
	for _, item := range strings.Split(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items, nil
}
