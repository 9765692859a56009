package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LogEntry is one log line of a job (stores.LogEntry). The table's primary
// key is seq, an autoincrement integer that gives the written order; the
// entry's UUID is entry_id.
type LogEntry struct{ ent.Schema }

// Annotations names the table.
func (LogEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("log_entries")}
}

// Fields of a log line.
func (LogEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id").StorageKey("seq").Immutable(),
		field.String("entry_id").SchemaType(uuidType).Unique().Immutable(),
		field.String("job_id").SchemaType(uuidType),
		field.Time("timestamp").SchemaType(timeType),
		field.String("level").Default(""),
		field.Text("message").Default("").SchemaType(textType),
		field.Text("exception").Default("").SchemaType(textType),
	}
}

// Indexes of the log: a job's lines in written order (List, job purge) and
// by time (Purge).
func (LogEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("job_id", "id").StorageKey("log_entries_by_job"),
		index.Fields("timestamp", "id").StorageKey("log_entries_purge"),
	}
}

// DeadLetter is a job that left the live set (stores.DeadLetter). The
// original job's fields are kept in job (a JSON snapshot of stores.Job
// without its arguments); args holds the arguments byte for byte.
type DeadLetter struct{ ent.Schema }

// Annotations names the table.
func (DeadLetter) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("dead_letters")}
}

// Fields of a dead letter.
func (DeadLetter) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").SchemaType(uuidType).Immutable(),
		field.String("job_id").SchemaType(uuidType),
		field.String("type"),
		field.String("queue"),
		field.Bytes("args").Optional().Nillable().SchemaType(blobType),
		field.Text("last_error").Default("").SchemaType(textType),
		field.Int("total_attempts").Default(0),
		field.Time("failed_at").SchemaType(timeType),
		field.Bytes("job").SchemaType(blobType),
	}
}

// Indexes of the dead letters: newest first (List).
func (DeadLetter) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("failed_at", "id").StorageKey("dead_letters_by_failed_at"),
	}
}
