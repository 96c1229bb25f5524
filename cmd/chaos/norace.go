//go:build !race

package main

// raceBuild is true when the race detector instruments this build.
const raceBuild = false
