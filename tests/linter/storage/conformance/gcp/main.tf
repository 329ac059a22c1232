resource "google_storage_bucket" "frames" {
  name                        = "acme-frames"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  encryption {
    default_kms_key_name = google_kms_crypto_key.frames.id
  }

  logging {
    log_bucket = google_storage_bucket.logs.name
  }

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "logs" {
  name                        = "acme-logs"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  retention_policy {
    retention_period = 2592000
    is_locked        = true
  }

  lifecycle_rule {
    condition {
      age = 400
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "site" {
  name     = "acme-site"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "site" {
  bucket = google_storage_bucket.site.name
  role   = "roles/storage.legacyObjectReader"
  member = "allUsers"
}
