package main

import "testing"

// testDatabaseEnv selects the database of test servers. The default is a fresh SQLite file in
// the test's data dir.
func testDatabaseEnv(t *testing.T) map[string]string {
	return nil
}
