//go:build race

package main

// raceBuild is true when the race detector instruments this build: the
// services' SQLite (C translated to Go) then runs many times slower, and
// the short sizes aim lower.
const raceBuild = true
