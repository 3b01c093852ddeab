module nodenet.fabric/tools/k8s/calico

go 1.26.0

// Calico is not built here (the proxy serves only pseudo-versions, whose go.mod replaces a nested
// api module the zip leaves out). The lab reads confd's test data and the Calico CRDs from this
// module in Go's module cache: `go mod download -json github.com/projectcalico/calico`.
require github.com/projectcalico/calico v1.11.0-cni-plugin.0.20250813170300-a0db560f0520
