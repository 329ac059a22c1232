# Without the guard the same grants are live: reported whatever the setting.
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  acl    = "public-read"
}

resource "google_storage_bucket" "archive" {
  name                        = "acme-archive"
  location                    = "EU"
  public_access_prevention    = "inherited"
  uniform_bucket_level_access = true
}

resource "google_storage_bucket_iam_member" "archive_public" {
  bucket = google_storage_bucket.archive.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
