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

// Indexes of jobs: the uniqueness rules of J1 and Enqueue.
func (Job) Indexes() []ent.Index {
	return []ent.Index{
		// A unique key is held only by non-terminal jobs (J1).
		index.Fields("unique_key").Unique().StorageKey("jobs_unique_key_live").
			Annotations(entsql.IndexWhere(liveUniqueKey)),
		// One job per schedule tick (S3).
		index.Fields("schedule_id", "schedule_tick").Unique().StorageKey("jobs_schedule_tick"),
	}
}
