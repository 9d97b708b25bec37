package main

import (
	"fmt"

	"github.com/spf13/cobra"

	sblob "github.com/streamlake/streamlake/internal/blob"
	"github.com/streamlake/streamlake/internal/crawl"
)

func (a *app) crawlCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "crawl",
		Short: "Register the staging area as external JSON tables in database raw",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.load(cmd, nil); err != nil {
				return err
			}
			su, err := stagingURL(a.cfg)
			if err != nil {
				return err
			}
			dir, ok := sblob.LocalDir(su)
			if !ok {
				return fmt.Errorf("crawl: storage.staging_url %s: only file:// staging can be crawled for now", su)
			}
			b, err := sblob.Open(cmd.Context(), su)
			if err != nil {
				return err
			}
			defer b.Close()
			store, err := a.openCatalog(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			rep, err := crawl.Staging(cmd.Context(), b, dir, store, crawl.Options{
				Database: a.cfg.Crawl.Database, SampleSize: a.cfg.Crawl.SampleSize, Logger: a.log})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "crawled %d staging objects into %d tables %v; %d unclassified\n",
				rep.Objects, len(rep.Tables), rep.Tables, len(rep.Unclassified))
			return nil
		},
	}
}
