resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "everyone" {
  bucket = google_storage_bucket.clips.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
