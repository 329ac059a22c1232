resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}

resource "google_storage_bucket" "thumbs" {
  name                        = "acme-thumbs"
  location                    = "EU"
  uniform_bucket_level_access = false
}
