package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/users"
)

func usersCommand(ctx context.Context, env Env, args []string) error {
	return runGroup(ctx, env, "users", "Administers the operator console's user accounts, in the data directory of a\nstopped host or in a PostgreSQL store (hosts may run).", []subcommand{
		{"create", "create a user with a password", usersCreate},
		{"list", "list the users", usersList},
		{"delete", "delete a user (the user's sessions end)", usersDelete},
		{"set-password", "give a user a new password (the user's sessions end)", usersSetPassword},
	}, args)
}

// userStoreFlags are the flags every users subcommand takes.
type userStoreFlags struct {
	data, store *string
}

func addUserStoreFlags(fs *flags) userStoreFlags {
	return userStoreFlags{data: fs.String("data", "./data", "data directory of a stopped host"), store: fs.String("store", "", storeUsage)}
}

// withUsers runs fn with the user service of the store, as the host
// itself (the command line works on the store directly).
func withUsers(ctx context.Context, f userStoreFlags, fn func(ctx context.Context, svc *users.Service) error) error {
	db, err := openStore(ctx, *f.store, *f.data, nil)
	if err != nil {
		return err
	}
	defer db.close()
	return fn(host.WithActor(ctx, host.System), users.New(db.Store, func() time.Time { return time.Now().UTC() }))
}

// parseWithPassword adds --password-file to fs, parses args and reads
// the password (readPassword).
func parseWithPassword(env Env, fs *flags, args []string) (string, error) {
	passwordFile := fs.String("password-file", "", "a file whose first line is the password (- or none: standard input)")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return "", err
	}
	return readPassword(env, *passwordFile)
}

// readPassword reads a password: the first line of the file, or of
// standard input ("-" or no file). Only the line's end is trimmed, so a
// password may have spaces.
func readPassword(env Env, file string) (string, error) {
	var r io.Reader
	switch file {
	case "", "-":
		if env.Stdin == nil {
			return "", errors.New("no password: give --password-file or the password on standard input")
		}
		r = env.Stdin
	default:
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, users.MaxPasswordLength+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("no password: the password file or standard input is empty")
	}
	return password, nil
}

func usersCreate(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "users create --username NAME --role operator|admin [--password-file F] [--data DIR | --store DSN]",
		"Creates a console user. The password is the first line of --password-file or,\nwithout it, of standard input; it is stored as an argon2id hash, never as it is.")
	username := fs.String("username", "", "the name the user signs in with: lower-case letters, digits, '.', '_' or '-'")
	role := fs.String("role", "", "operator (works orders) or admin (everything)")
	sf := addUserStoreFlags(fs)
	password, err := parseWithPassword(env, fs, args)
	if err != nil {
		return err
	}
	return withUsers(ctx, sf, func(ctx context.Context, svc *users.Service) error {
		u, err := svc.Create(ctx, *username, *role, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created %s user %s\n", u.Role, u.Username)
		return nil
	})
}

func usersList(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "users list [--data DIR | --store DSN]", "Lists the console users: username, role, created, password set.")
	sf := addUserStoreFlags(fs)
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	return withUsers(ctx, sf, func(ctx context.Context, svc *users.Service) error {
		list, err := svc.List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "USERNAME\tROLE\tCREATED\tPASSWORD SET")
		for _, u := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", u.Username, u.Role, u.CreatedAt.Format(time.RFC3339), u.PasswordChangedAt.Format(time.RFC3339))
		}
		return w.Flush()
	})
}

func usersDelete(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "users delete --username NAME [--data DIR | --store DSN]", "Deletes a console user; the user's sessions end with it.")
	username := fs.String("username", "", "the user to delete")
	sf := addUserStoreFlags(fs)
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	return withUsers(ctx, sf, func(ctx context.Context, svc *users.Service) error {
		if err := svc.Delete(ctx, *username); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "deleted user %s\n", *username)
		return nil
	})
}

func usersSetPassword(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "users set-password --username NAME [--password-file F] [--data DIR | --store DSN]",
		"Gives a console user a new password (the first line of --password-file or of\nstandard input) and ends the user's sessions.")
	username := fs.String("username", "", "the user")
	sf := addUserStoreFlags(fs)
	password, err := parseWithPassword(env, fs, args)
	if err != nil {
		return err
	}
	return withUsers(ctx, sf, func(ctx context.Context, svc *users.Service) error {
		if err := svc.SetPassword(ctx, *username, password); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "set the password of %s; the user's sessions have ended\n", *username)
		return nil
	})
}
