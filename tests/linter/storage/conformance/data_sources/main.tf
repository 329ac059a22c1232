# The buckets exist already (another stack made them); this stack only attaches access.
data "aws_s3_bucket" "archive" {
  bucket = "acme-archive"
}

resource "aws_s3_bucket_acl" "archive" {
  bucket = data.aws_s3_bucket.archive.id
  access_control_policy {
    grant {
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/global/AllUsers"
      }
      permission = "FULL_CONTROL"
    }
    owner {
      id = data.aws_canonical_user_id.current.id
    }
  }
}

data "aws_s3_bucket" "reports" {
  bucket = "acme-reports"
}

resource "aws_s3_bucket_policy" "reports" {
  bucket = data.aws_s3_bucket.reports.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OrgRead"
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${data.aws_s3_bucket.reports.arn}/*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" } }
    }]
  })
}

data "google_storage_bucket" "media" {
  name = "acme-media"
}

resource "google_storage_bucket_iam_binding" "media" {
  bucket  = data.google_storage_bucket.media.name
  role    = "roles/storage.objectViewer"
  members = ["allUsers"]
}
