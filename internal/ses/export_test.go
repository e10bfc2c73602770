package ses

// Classes exposes the classification table to the tests.
func Classes() map[string]string { return classes }
