"""Hardened buckets written the way real modules write them, as named chunks that tests remove."""

from __future__ import annotations

AWS_CHUNKS: dict[str, str] = {
    "bucket": """
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}
""",
    "public_access_block": """
resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}
""",
    "encryption": """
resource "aws_s3_bucket_server_side_encryption_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.frames.arn
    }
  }
}
""",
    "versioning": """
resource "aws_s3_bucket_versioning" "frames" {
  bucket = aws_s3_bucket.frames.id
  versioning_configuration {
    status = "Enabled"
  }
}
""",
    "logging": """
resource "aws_s3_bucket_logging" "frames" {
  bucket        = aws_s3_bucket.frames.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "frames/"
}
""",
    "lifecycle": """
resource "aws_s3_bucket_lifecycle_configuration" "frames" {
  bucket = aws_s3_bucket.frames.id
  rule {
    id     = "raw"
    status = "Enabled"
    filter {
      prefix = "raw/"
    }
    expiration {
      days = 7
    }
  }
  rule {
    id     = "redacted"
    status = "Enabled"
    filter {
      prefix = "redacted/"
    }
    expiration {
      days = 90
    }
  }
}
""",
    "policy": """
resource "aws_s3_bucket_policy" "frames" {
  bucket = aws_s3_bucket.frames.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TLSOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [aws_s3_bucket.frames.arn, "${aws_s3_bucket.frames.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "ReaderRedactedOnly"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.reader.arn }
        Action    = ["s3:GetObject"]
        Resource  = ["${aws_s3_bucket.frames.arn}/redacted/*"]
      }
    ]
  })
}
""",
    "logs_bucket": """
resource "aws_s3_bucket" "logs" {
  bucket              = "acme-access-logs"
  object_lock_enabled = true
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = "acme-access-logs"
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs_tls.json
}

data "aws_iam_policy_document" "logs_tls" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
""",
    "logs_lifecycle": """
resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = 400
    }
  }
}
""",
    "logs_object_lock": """
resource "aws_s3_bucket_object_lock_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = 400
    }
  }
}
""",
}

# The same bucket with the pre-v4 inline blocks (one resource, no companions).
AWS_INLINE = """
resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
  acl    = "private"

  versioning {
    enabled = true
  }

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }

  logging {
    target_bucket = "acme-access-logs"
    target_prefix = "frames/"
  }

  lifecycle_rule {
    id      = "raw"
    enabled = true
    prefix  = "raw/"
    expiration {
      days = 7
    }
  }

  policy = <<POLICY
{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
  "Resource": "arn:aws:s3:::acme-frames/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
POLICY
}

resource "aws_s3_bucket_public_access_block" "frames" {
  bucket                  = aws_s3_bucket.frames.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}
"""

GCP = """
resource "google_storage_bucket" "clips" {
  name                        = "acme-clips"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  logging {
    log_bucket = google_storage_bucket.audit.name
  }
  lifecycle_rule {
    condition {
      age            = 7
      matches_prefix = ["raw/"]
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      age            = 90
      matches_prefix = ["redacted/"]
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "audit" {
  name                        = "acme-audit"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
  retention_policy {
    retention_period = 31536000
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

resource "google_storage_bucket_iam_member" "reader" {
  bucket = google_storage_bucket.clips.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:reader@acme.iam.gserviceaccount.com"
  condition {
    title      = "redacted only"
    expression = "resource.name.startsWith(\\"projects/_/buckets/acme-clips/objects/redacted/\\")"
  }
}
"""

AZURE = """
resource "azurerm_storage_account" "media" {
  name                            = "acmemedia"
  resource_group_name             = "rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  allow_nested_items_to_be_public = false
  blob_properties {
    versioning_enabled = true
  }
}

resource "azurerm_storage_container" "raw" {
  name                  = "raw"
  storage_account_id    = azurerm_storage_account.media.id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "media" {
  storage_account_id = azurerm_storage_account.media.id
  rule {
    name    = "raw"
    enabled = true
    filters {
      prefix_match = ["raw/"]
      blob_types   = ["blockBlob"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = 7
      }
    }
  }
}

resource "azurerm_monitor_diagnostic_setting" "media" {
  name               = "blob-audit"
  target_resource_id = "${azurerm_storage_account.media.id}/blobServices/default"
  storage_account_id = azurerm_storage_account.audit.id
  enabled_log {
    category = "StorageRead"
  }
}

resource "azurerm_storage_account" "audit" {
  name                            = "acmeaudit"
  resource_group_name             = "rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  allow_nested_items_to_be_public = false
  blob_properties {
    versioning_enabled = true
  }
  immutability_policy {
    allow_protected_append_writes = true
    state                         = "Locked"
    period_since_creation_in_days = 365
  }
}

resource "azurerm_storage_management_policy" "audit" {
  storage_account_id = azurerm_storage_account.audit.id
  rule {
    name    = "expire-logs"
    enabled = true
    filters {
      blob_types = ["blockBlob", "appendBlob"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = 400
      }
    }
  }
}
"""


def aws(without: str | None = None) -> str:
    return "".join(text for name, text in AWS_CHUNKS.items() if name != without)
