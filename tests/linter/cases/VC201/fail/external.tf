data "aws_s3_bucket" "shared" {
  bucket = "acme-shared"
}

resource "aws_s3_bucket_acl" "shared" {
  bucket = data.aws_s3_bucket.shared.id
  access_control_policy {
    grant {
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/global/AllUsers"
      }
      permission = "FULL_CONTROL"
    }
    owner {
      id = "abc"
    }
  }
}

resource "google_storage_bucket_iam_member" "admin" {
  bucket = "acme-elsewhere"
  role   = "roles/storage.admin"
  member = "allAuthenticatedUsers"
}

resource "aws_s3_bucket_policy" "open" {
  bucket = var.bucket_name
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::acme-open/*"
      Condition = { Bool = { "aws:SecureTransport" = "true" } }
    }]
  })
}
