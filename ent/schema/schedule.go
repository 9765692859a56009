package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
)

// scheduleMixin holds the fields cron and interval schedules share
// (stores.ScheduleFields).
type scheduleMixin struct{ mixin.Schema }

// Fields of every schedule.
func (scheduleMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").SchemaType(uuidType).Immutable(),
		field.String("name").Unique(),
		field.String("job_type"),
		field.String("queue"),
		field.Bytes("args").Optional().Nillable().SchemaType(blobType),
		field.Time("next_run").Optional().Nillable().SchemaType(timeType),
		field.Time("last_run").Optional().Nillable().SchemaType(timeType),
		field.Bool("enabled").Default(true),
		field.Time("created_at").SchemaType(timeType),
		field.String("misfire").Default("fire_once"),
		field.Int("misfire_limit").Default(0),
	}
}

// Indexes of every schedule: Due (S2).
func (scheduleMixin) Indexes() []ent.Index {
	return []ent.Index{index.Fields("enabled", "next_run")}
}

// CronSchedule fires at every tick of a cron expression (stores.CronSchedule).
type CronSchedule struct{ ent.Schema }

// Mixin adds the shared schedule fields.
func (CronSchedule) Mixin() []ent.Mixin { return []ent.Mixin{scheduleMixin{}} }

// Annotations names the table.
func (CronSchedule) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("cron_schedules")}
}

// Fields of a cron schedule.
func (CronSchedule) Fields() []ent.Field {
	return []ent.Field{
		field.String("expression"),
		field.String("time_zone").Default("UTC"),
	}
}

// IntervalSchedule fires every interval (stores.IntervalSchedule).
type IntervalSchedule struct{ ent.Schema }

// Mixin adds the shared schedule fields.
func (IntervalSchedule) Mixin() []ent.Mixin { return []ent.Mixin{scheduleMixin{}} }

// Annotations names the table.
func (IntervalSchedule) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("interval_schedules")}
}

// Fields of an interval schedule.
func (IntervalSchedule) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("interval_ms"),
	}
}
