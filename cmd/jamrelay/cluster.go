package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v2"

	"github.com/jambridge/jambridge/relay/redisbroker"
)

// newCluster returns the Redis broker of --redis, or nil without it.
func newCluster(c *cli.Context, log *slog.Logger) (*redisbroker.Broker, error) {
	url := c.String("redis")
	if url == "" {
		return nil, nil
	}
	// go-redis logs every failed dial on its own: the broker says once
	// per outage that Redis is gone, so its own logger stays quiet.
	redis.SetLogger(quietRedis{})
	b, err := redisbroker.New(redisbroker.Options{URL: url, Node: c.String("cluster-node"), Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("cluster on redis", "node", b.Node())
	return b, nil
}

// clusterWait bounds the wait for Redis at start; past it the node
// serves its own sessions and joins the cluster when Redis answers.
const clusterWait = 2 * time.Second

func waitCluster(ctx context.Context, b *redisbroker.Broker, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, clusterWait)
	defer cancel()
	if !b.WaitUp(ctx) {
		log.Warn("redis not reachable yet: serving this node's own sessions until it is")
	}
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
