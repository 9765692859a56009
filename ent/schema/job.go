package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Job is one unit of work (stores.Job).
type Job struct{ ent.Schema }

// Annotations names the table.
func (Job) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("jobs")}
}

// Fields of a job.
func (Job) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").SchemaType(uuidType).Immutable(),
		field.String("type"),
		field.String("queue"),
		field.Bytes("args").Optional().Nillable().SchemaType(blobType),
		field.String("status"),
		field.Int("priority").Default(0),
		field.String("correlation_id").Default(""),
		field.String("unique_key").Optional().Nillable(),
		field.Time("created_at").SchemaType(timeType),
		field.Time("scheduled_at").Optional().Nillable().SchemaType(timeType),
		field.Time("dispatched_at").Optional().Nillable().SchemaType(timeType),
		field.Time("started_at").Optional().Nillable().SchemaType(timeType),
		field.Time("completed_at").Optional().Nillable().SchemaType(timeType),
		field.Int64("timeout_ms").Default(0),
		field.Int("retry_count").Default(0),
		field.Int("max_retries").Default(0),
		field.Int64("retry_initial_delay_ms").Default(0),
		field.Float("retry_multiplier").Default(0),
		field.Int64("retry_max_delay_ms").Default(0),
		field.Text("last_error").Default("").SchemaType(textType),
		field.String("worker_id").Default(""),
		field.String("follower_node_id").Default(""),
		field.Bool("channels_cleaned").Default(false),
		field.String("schedule_id").Optional().Nillable().SchemaType(uuidType),
		field.String("schedule_type").Default(""),
		field.Time("schedule_tick").Optional().Nillable().SchemaType(timeType),
		field.Int64("attempt").Default(0),
	}
}

// Indexes of jobs: the uniqueness rules of J1 and Enqueue, and one index per
// hot query.
func (Job) Indexes() []ent.Index {
	return []ent.Index{
		// Dispatch and Pending (J3, J4): due pending jobs in dispatch order,
		// across all queues and per queue.
		index.Fields("priority", "created_at", "id").StorageKey("jobs_dispatch").
			Annotations(entsql.DescColumns("priority"), entsql.IndexWhere(pendingOnly)),
		index.Fields("queue", "priority", "created_at", "id").StorageKey("jobs_dispatch_queue").
			Annotations(entsql.DescColumns("priority"), entsql.IndexWhere(pendingOnly)),
		// DueScheduled (J3).
		index.Fields("scheduled_at", "id").StorageKey("jobs_due_scheduled").
			Annotations(entsql.IndexWhere(scheduledOnly)),
		// Recover (J8): in-flight jobs only.
		index.Fields("status", "dispatched_at").StorageKey("jobs_in_flight").
			Annotations(entsql.IndexWhere(inFlightOnly)),
		// ByFollower, CountByFollower, ReleaseFollower (J6).
		index.Fields("follower_node_id", "created_at", "id").StorageKey("jobs_by_follower").
			Annotations(entsql.IndexWhere(ownedOnly)),
		// Uncleaned (J9): shrinks as jobs are cleaned.
		index.Fields("completed_at", "id").StorageKey("jobs_uncleaned").
			Annotations(entsql.IndexWhere(uncleanedOnly)),
		// Purge (J9).
		index.Fields("completed_at").StorageKey("jobs_purge").
			Annotations(entsql.IndexWhere(terminalOnly)),
		// Query (J10).
		index.Fields("created_at", "id").StorageKey("jobs_query"),
		// A unique key is held only by non-terminal jobs (J1).
		index.Fields("unique_key").Unique().StorageKey("jobs_unique_key_live").
			Annotations(entsql.IndexWhere(liveUniqueKey)),
		// One job per schedule tick (S3).
		index.Fields("schedule_id", "schedule_tick").Unique().StorageKey("jobs_schedule_tick").
			Annotations(entsql.IndexWhere(firedOnly)),
	}
}
