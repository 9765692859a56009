package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Worker is a process that runs jobs (stores.Worker). IDs are chosen by the
// caller.
type Worker struct{ ent.Schema }

// Annotations names the table.
func (Worker) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("workers")}
}

// Fields of a worker.
func (Worker) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable(),
		field.String("host_name").Default(""),
		// A JSON array of queue names: jsonb on PostgreSQL so Available can
		// test membership with @>, text on SQLite (json_each).
		field.Strings("queues").SchemaType(jsonType),
		field.Int("max_concurrency"),
		field.Int("current_load").Default(0),
		field.String("status"),
		field.Time("last_heartbeat").SchemaType(timeType),
		field.Bytes("metadata").Optional().Nillable().SchemaType(blobType),
		field.Time("registered_at").SchemaType(timeType),
	}
}

// Indexes of workers: Dead (W2).
func (Worker) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status", "last_heartbeat").StorageKey("workers_by_heartbeat")}
}

// CoordinatorNode is one coordinator process (stores.CoordinatorNode).
type CoordinatorNode struct{ ent.Schema }

// Annotations names the table.
func (CoordinatorNode) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("coordinator_nodes")}
}

// Fields of a node.
func (CoordinatorNode) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable(),
		field.String("role"),
		field.Int("job_count").Default(0),
		field.String("status"),
		field.Time("last_heartbeat").SchemaType(timeType),
		field.Bytes("metadata").Optional().Nillable().SchemaType(blobType),
		field.String("host_name").Default(""),
		field.Int("process_id").Default(0),
		field.Time("joined_at").SchemaType(timeType),
	}
}

// Indexes of nodes: Dead and ActiveFollowers (W2).
func (CoordinatorNode) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "last_heartbeat").StorageKey("coordinator_nodes_by_heartbeat"),
		index.Fields("status", "job_count", "id").StorageKey("coordinator_nodes_by_job_count"),
	}
}

// LeaderLease is the leadership lease (W3): a single row (id 1). Term is the
// fencing token; resigning or expiring clears the holder and keeps the term,
// so the next acquisition issues term+1 and terms increase forever.
type LeaderLease struct{ ent.Schema }

// Annotations names the table.
func (LeaderLease) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("leader_lease")}
}

// Fields of the lease.
func (LeaderLease) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").Immutable(),
		field.String("holder").Optional().Nillable(),
		field.Int64("term").Default(0),
		field.Time("acquired_at").Optional().Nillable().SchemaType(timeType),
		field.Time("expires_at").Optional().Nillable().SchemaType(timeType),
	}
}
