resource "google_storage_bucket" "clips" {
  name                        = "acme-clips"
  location                    = "EU"
  uniform_bucket_level_access = true
}

# A bucket declared elsewhere: its access mode is not in these files, so it is not judged.
resource "google_storage_bucket_iam_member" "team" {
  bucket = "acme-elsewhere"
  role   = "roles/storage.objectViewer"
  member = "group:team@example.com"
}
