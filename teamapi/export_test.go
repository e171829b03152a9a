package teamapi

// Route is a row of the route table as the tests of the OpenAPI document
// compare it with the document.
type Route struct {
	Method, Path string
	// Access is who may call it, as the document's x-roster-access says.
	Access string
	Status int
	Query  []string
	Body   bool
}

// Routes returns the route table.
func Routes() []Route {
	var out []Route
	for _, rt := range (&api{}).routes() {
		out = append(out, Route{Method: rt.method, Path: rt.path, Access: rt.access.String(), Status: rt.status, Query: rt.query, Body: rt.body})
	}
	return out
}
