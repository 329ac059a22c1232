versioning_status = "Suspended"
acl               = "private"
