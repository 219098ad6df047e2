"""The store beside the flow: schema, migrations, writes and queries."""
