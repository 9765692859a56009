package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// JobHistory is one attempt of a job (stores.JobHistory). It has no foreign
// key to jobs: history outlives a job moved to the dead letters (J7).
type JobHistory struct{ ent.Schema }

// Annotations names the table.
func (JobHistory) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("job_history")}
}

// Fields of an attempt.
func (JobHistory) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").SchemaType(uuidType).Immutable(),
		field.String("job_id").SchemaType(uuidType),
		field.Int("attempt"),
		field.String("worker_id").Default(""),
		field.Time("started_at").Optional().Nillable().SchemaType(timeType),
		field.Time("completed_at").Optional().Nillable().SchemaType(timeType),
		field.String("status").Default(""),
		field.Text("error").Default("").SchemaType(textType),
		field.Int64("duration_ms").Default(0),
	}
}

// Indexes of the history: by job (ListByJob, job purge) and by completion
// (Purge).
func (JobHistory) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("job_id", "attempt").StorageKey("job_history_by_job"),
		index.Fields("completed_at").StorageKey("job_history_purge"),
	}
}
