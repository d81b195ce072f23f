// Package e2e holds fleetsim's end-to-end tests: inline Pulumi programs run by the real
// Pulumi CLI against the fleetsim provider plugin and a daemon of the test's own.
package e2e
