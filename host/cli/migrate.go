package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/secrets"
	"github.com/ordergate/ordergate/host/storecopy"
)

// migrateCommand copies a stopped host's bbolt store into an empty
// PostgreSQL database and checks the copy.
func migrateCommand(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "migrate --from DIR --to postgres://... [--secret-key-file F]",
		"Copies the bbolt store of a stopped host (its data directory) into an empty\n"+
			"PostgreSQL database, then checks the copy: the same count and checksum in\n"+
			"both for every kind of record. Ids, statuses, tags, holds, timelines and\n"+
			"times are kept and API keys keep working. Run again, it does nothing when\n"+
			"the database holds this copy already, and refuses when it holds anything\n"+
			"else. The host must stay stopped while it runs (see docs/operations.md).")
	from := fs.String("from", "", "the data directory of the stopped host (required)")
	to := fs.String("to", "", "the PostgreSQL database, postgres://user:pass@host:5432/db?sslmode=verify-full (required); or ORDERGATE_STORE")
	keyFile := fs.String("secret-key-file", "", "the key sealing the store's secrets (the host's --secret-key-file); or ORDERGATE_SECRET_KEY")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	if *to == "" {
		*to = env.Getenv("ORDERGATE_STORE")
	}
	switch {
	case *from == "":
		return &usageError{err: fmt.Errorf("--from is required"), usage: fs.usage}
	case !postgres.IsDSN(*to):
		return &usageError{err: fmt.Errorf("--to must be a postgres:// DSN"), usage: fs.usage}
	}
	box, err := secrets.Load(*keyFile, env.Getenv("ORDERGATE_SECRET_KEY"))
	if err != nil {
		return err
	}
	src, err := bolt.Open(*from, nil)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := src.UseSecrets(ctx, box); err != nil {
		return err
	}
	dst, err := postgres.Open(ctx, *to, nil)
	if err != nil {
		return err
	}
	defer dst.Close()
	if err := dst.UseSecrets(ctx, box); err != nil {
		return err
	}
	report, err := storecopy.Copy(ctx, src, dst, env.Stdout)
	if err != nil {
		return fmt.Errorf("migrating %s to %s: %w", *from, dst, err)
	}
	if report.Already {
		fmt.Fprintf(env.Stdout, "%s holds this copy of %s already; nothing to do\n", dst, *from)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trecords\tchecksum (the same in both)")
	for _, t := range report.Tables {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Name, t.Count, t.Checksum)
	}
	tw.Flush()
	if !report.Already {
		fmt.Fprintf(env.Stdout, "migrated %s to %s; start the hosts with --store on it\n", *from, dst)
	}
	return nil
}
