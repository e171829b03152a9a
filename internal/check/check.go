// Package check validates the identifiers the services take as arguments
// (actors, account, user, invite and transfer IDs, roles), each named for
// its error message, by the rule of store.ValidateID.
package check

import "github.com/teamroster/roster/store"

// Name names an argument in an error message, such as "account ID". Write it
// as a string constant: a string variable is not a Name, so an argument's
// value cannot be passed where its name belongs.
type Name string

// Field is one identifier argument and its name, made by ID.
type Field struct {
	name  Name
	value string
}

// ID returns the identifier argument value, named name, for IDs.
func ID(name Name, value string) Field { return Field{name: name, value: value} }

// IDs checks each field with store.ValidateID, in order, and returns the
// first error, which wraps store.ErrInvalid and names the field; nil if all
// are valid (or there are none). It is safe for concurrent use.
func IDs(fields ...Field) error {
	for _, f := range fields {
		if err := store.ValidateID(string(f.name), f.value); err != nil {
			return err
		}
	}
	return nil
}
