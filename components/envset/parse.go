package envset

import "fmt"

// Parse decodes and validates a Set from YAML in the format Load reads, for sets
// embedded in a program; source names the data in errors.
func Parse(data []byte, source string) (Set, error) {
	set, err := parse(data)
	if err != nil {
		return Set{}, fmt.Errorf("%s: %w", source, err)
	}
	if err := set.Validate(); err != nil {
		return Set{}, fmt.Errorf("%s: %w", source, err)
	}
	return set, nil
}
