// Package deploy_test checks the deployment files against the build: the
// Dockerfile must install what the Makefile installs and build the way it
// builds, and its run stage must carry every shared library the binary
// links. The image itself is not built here (no Docker in CI).
package deploy_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// makeVar returns the words of a `NAME := …` line of the Makefile.
func makeVar(t *testing.T, mk, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` :?= (.*)$`).FindStringSubmatch(mk)
	if m == nil {
		t.Fatalf("Makefile has no %s", name)
	}
	return strings.Fields(m[1])
}

// aptInstalls returns the packages of each `apt-get install` line.
func aptInstalls(df string) [][]string {
	var out [][]string
	for _, m := range regexp.MustCompile(`apt-get install -y --no-install-recommends ([^\\\n]+)`).FindAllStringSubmatch(df, -1) {
		out = append(out, strings.Fields(m[1]))
	}
	return out
}

func TestDockerfileBuildsLikeMakefile(t *testing.T) {
	mk, df := read(t, "../Makefile"), read(t, "Dockerfile")
	runDebs := makeVar(t, mk, "RUN_DEBS")
	installs := aptInstalls(df)
	if len(installs) != 2 {
		t.Fatalf("Dockerfile: %d apt-get install lines, want 2 (build and run stages)", len(installs))
	}
	got, want := slices.Sorted(slices.Values(installs[0])), slices.Sorted(slices.Values(runDebs))
	if !slices.Equal(got, want) {
		t.Errorf("build stage installs %v, Makefile RUN_DEBS is %v", got, want)
	}
	// The Makefile builds with `$(GO) build -o $(BIN) ./cmd/frontdesk`.
	bin := makeVar(t, mk, "BIN")[0]
	if !strings.Contains(mk, "$(GO) build -o $(BIN) ./cmd/frontdesk") {
		t.Fatal("Makefile build command changed; update this test and the Dockerfile")
	}
	if want := "RUN go build -o " + bin + " ./cmd/frontdesk"; !strings.Contains(df, want) {
		t.Errorf("Dockerfile does not build with %q", want)
	}
	if !strings.Contains(df, "COPY --from=build /src/"+bin+" ") {
		t.Errorf("Dockerfile run stage does not copy %s", bin)
	}
}

// TestDockerfileRunStageHasLibraries links the binary and checks that each
// shared library it needs comes from a package the run stage installs (or
// from the base image).
func TestDockerfileRunStageHasLibraries(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Fatalf("dpkg: %v (this project builds on Debian 12)", err)
	}
	bin := filepath.Join(t.TempDir(), "frontdesk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/frontdesk")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	run := aptInstalls(read(t, "Dockerfile"))[1]
	base := []string{"libc6", "libgcc-s1", "libstdc++6"} // in debian:12-slim
	for _, lib := range libs {
		path := ""
		for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"} {
			if _, err := os.Stat(filepath.Join(dir, lib)); err == nil {
				path, _ = filepath.EvalSymlinks(filepath.Join(dir, lib))
				break
			}
		}
		if path == "" {
			t.Errorf("%s: not found on this machine", lib)
			continue
		}
		out, err := exec.Command("dpkg", "-S", path).Output()
		if err != nil {
			// usrmerge: dpkg may know the /lib form of a /usr/lib path.
			out, err = exec.Command("dpkg", "-S", strings.TrimPrefix(path, "/usr")).Output()
		}
		if err != nil {
			t.Errorf("%s (%s): no Debian package owns it", lib, path)
			continue
		}
		pkg, _, _ := strings.Cut(string(out), ":")
		if !slices.Contains(run, pkg) && !slices.Contains(base, pkg) {
			t.Errorf("binary needs %s from %s; the Dockerfile's run stage does not install it (%v)", lib, pkg, run)
		}
	}
	if len(libs) < 5 {
		t.Errorf("binary links %v; expected the cgo speech libraries", libs)
	}
}

func TestSystemdUnit(t *testing.T) {
	unit := read(t, "frontdesk.service")
	for _, want := range []string{
		"ExecStart=/usr/local/bin/frontdesk serve -config /etc/frontdesk/frontdesk.yaml",
		"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=frontdesk",
		"LimitNOFILE=", "NoNewPrivileges=yes", "KillSignal=SIGTERM", "TimeoutStopSec=",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("frontdesk.service lacks %q", want)
		}
	}
}
