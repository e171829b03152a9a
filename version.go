package roster

// Version is the version of this module, whose changes CHANGELOG.md lists
// under the same number. It follows semantic versioning; before 1.0.0 a
// minor version may change the API.
const Version = "0.2.0"
