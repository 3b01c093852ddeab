//go:build tools

// Package tools pins kube-router and the gobgp CLI that reads its embedded gobgp, so that
// `go mod tidy` keeps every module they need in go.sum.
package tools

import (
	_ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
	_ "github.com/osrg/gobgp/v4/cmd/gobgp"
)
