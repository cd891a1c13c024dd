// Command frontdesk runs the Frontdesk server and its tools:
//
//	frontdesk serve  [-config FILE]                 run the server
//	frontdesk call   -wav FILE [-out reply.wav] …   place a simulated Twilio call
//	frontdesk load   -calls N -duration D …         run N concurrent echo calls
//	frontdesk load   -ramp -step 10 -max 600 …      add calls until frames come late; report the knee
//	frontdesk load   -soak 30m -calls N …           keep N calls up for 30 minutes; memory, goroutines, gaps
//	frontdesk config check FILE                     validate a configuration file
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/frontdesk/frontdesk/configs"
	"github.com/frontdesk/frontdesk/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "frontdesk:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args)
	case "call":
		return callCmd(args)
	case "load":
		return loadCmd(args)
	case "config":
		if len(args) < 2 || args[0] != "check" {
			return errors.New("usage: frontdesk config check FILE")
		}
		return configCheck(args[1])
	case "help", "-h", "--help":
		fmt.Println(usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  frontdesk serve  [-config FILE] [-log-level LEVEL]
  frontdesk call   [-server URL] [-to NUMBER] -wav FILE [-out reply.wav] [-digits 12#]
  frontdesk load   [-server URL] [-calls N] [-duration D] [-say LINE]…
  frontdesk load   -ramp [-start N] [-step N] [-step-duration D] [-max N] [-say LINE]…
  frontdesk load   -soak D [-calls N] [-duration D]
  frontdesk config check FILE`

func configCheck(path string) error {
	cfg, err := configs.Load(path)
	if err != nil {
		return err
	}
	fmt.Printf("%s: ok (%d businesses)\n", path, len(cfg.Businesses))
	return nil
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "configs/example.yaml", "configuration file")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(*level)
	if err != nil {
		return err
	}
	cfg, err := configs.Load(*path)
	if err != nil {
		return err
	}
	st, err := server.OpenStore(context.Background(), cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(cfg, log, server.WithStore(st))
	if err != nil {
		return err
	}
	// SIGHUP, or a change to the file, reloads businesses, plans and the
	// operator key; live calls keep what they started with.
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan error, 1)
	go func() { watched <- srv.WatchConfig(watchCtx, *path, 2*time.Second, hups) }()
	defer func() { stopWatch(); <-watched }()
	// First signal drains: no new calls, live calls may finish. The second
	// forces: live calls are cut at once.
	ctx, stop := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		log.Info("signal: draining; send again to force", "signal", s.String())
		stop()
		s = <-sigs
		log.Warn("signal: forcing shutdown", "signal", s.String())
		srv.Force()
	}()
	return srv.Run(ctx)
}
