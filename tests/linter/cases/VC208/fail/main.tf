resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}
