package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tokengate/tokengate/jwksfetch"
)

// The key-bundle signing key's commands:
//
//	jwksfetch keygen --out bundle.key      make a key (mode 0600) and print the public key to pin
//	jwksfetch pubkey --bundle-key FILE     print the public key of a key, e.g. one openssl made
//
// Both print one line, the public key as the plugin's "bundle.public_keys"
// takes it, and never the private key.

var keyCommands = map[string]bool{"keygen": true, "pubkey": true}

func keyCommand(name string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jwksfetch "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	var path string
	switch name {
	case "keygen":
		fs.StringVar(&path, "out", "", "where to write the new Ed25519 private key (PKCS #8 PEM, mode 0600); an existing file is never replaced")
	case "pubkey":
		fs.StringVar(&path, "bundle-key", "", "the Ed25519 private key (PKCS #8 PEM, mode 0600)")
	default:
		return fmt.Errorf("unknown command %q", name)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if path == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("usage: jwksfetch keygen --out FILE | jwksfetch pubkey --bundle-key FILE")
	}
	var pinned string
	if name == "keygen" {
		p, err := jwksfetch.GenerateBundleKey(path)
		if err != nil {
			return err
		}
		pinned = p
	} else {
		key, err := jwksfetch.LoadBundleKey(path)
		if err != nil {
			return err
		}
		pinned, _ = jwksfetch.BundlePublicKey(key)
	}
	fmt.Fprintf(stdout, "%s\n", pinned)
	return nil
}
