package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func (c *cli) version(args []string) error {
	fs := c.newFlagSet("version", "version")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "version takes no arguments, got %q", pos[0])
	}
	fmt.Fprintf(c.stdout, "phonebook %s\n", buildVersion())
	fmt.Fprintf(c.stdout, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// buildVersion is the main module's version when built from a tagged
// module, else the VCS revision stamped by go build, else "devel".
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}
