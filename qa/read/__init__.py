"""Question + passages -> answer spans: the reader protocol, the readers, and training one."""
