# Object lock (VC222) and replication (VC223) in every form the providers document: AWS provider v3
# inline blocks and v4+ companions, a data source, an undetermined variable, Cloud Storage locations
# and retention policies, Azure redundancy and immutability, and the modelled registry modules.

# --- AWS provider v4+ -----------------------------------------------------------------------------
resource "aws_s3_bucket" "vault" {
  bucket              = "acme-vault"
  object_lock_enabled = true
}

resource "aws_s3_bucket_versioning" "vault" {
  bucket = aws_s3_bucket.vault.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "vault" {
  bucket = aws_s3_bucket.vault.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = 7
    }
  }
}

resource "aws_s3_bucket_replication_configuration" "vault" {
  depends_on = [aws_s3_bucket_versioning.vault]
  bucket     = aws_s3_bucket.vault.id
  role       = aws_iam_role.replication.arn
  rule {
    id     = "everything"
    status = "Enabled"
    destination {
      bucket        = "arn:aws:s3:::acme-vault-replica"
      storage_class = "STANDARD_IA"
    }
  }
}

resource "aws_iam_role" "replication" {
  name = "s3-replication"
}

# Replication declared, versioning never enabled: S3 refuses the configuration.
resource "aws_s3_bucket" "unversioned" {
  bucket = "acme-unversioned"
}

resource "aws_s3_bucket_replication_configuration" "unversioned" {
  bucket = aws_s3_bucket.unversioned.id
  role   = aws_iam_role.replication.arn
  rule {
    status = "Enabled"
    destination {
      bucket = "arn:aws:s3:::acme-unversioned-replica"
    }
  }
}

resource "aws_s3_bucket" "plain" {
  bucket = "acme-plain"
}

# --- AWS provider v3 ------------------------------------------------------------------------------
resource "aws_s3_bucket" "legacy" {
  bucket = "acme-legacy"
  versioning {
    enabled = true
  }
  object_lock_configuration {
    object_lock_enabled = "Enabled"
  }
  replication_configuration {
    role = aws_iam_role.replication.arn
    rules {
      id     = "everything"
      status = "Enabled"
      destination {
        bucket = "arn:aws:s3:::acme-legacy-replica"
      }
    }
  }
}

# --- A bucket declared elsewhere, and values the code does not determine --------------------------
data "aws_s3_bucket" "shared" {
  bucket = "acme-shared"
}

resource "aws_s3_bucket_versioning" "shared" {
  bucket = data.aws_s3_bucket.shared.id
  versioning_configuration {
    status = "Enabled"
  }
}

variable "lock" {
  type = bool
}

variable "replicate" {
  type = string
}

resource "aws_s3_bucket" "configurable" {
  bucket              = "acme-configurable"
  object_lock_enabled = var.lock
}

resource "aws_s3_bucket_versioning" "configurable" {
  bucket = aws_s3_bucket.configurable.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_replication_configuration" "configurable" {
  bucket = aws_s3_bucket.configurable.id
  role   = aws_iam_role.replication.arn
  rule {
    status = var.replicate
    destination {
      bucket = "arn:aws:s3:::acme-configurable-replica"
    }
  }
}

# --- Cloud Storage --------------------------------------------------------------------------------
resource "google_storage_bucket" "eu" {
  name     = "acme-eu"
  location = "EU"
  retention_policy {
    retention_period = 604800
  }
}

resource "google_storage_bucket" "dual" {
  name     = "acme-dual"
  location = "EU"
  custom_placement_config {
    data_locations = ["EUROPE-WEST1", "EUROPE-WEST4"]
  }
  retention_policy {
    is_locked        = true
    retention_period = 604800
  }
}

resource "google_storage_bucket" "regional" {
  name     = "acme-regional"
  location = "europe-west1"
}

# --- Azure ----------------------------------------------------------------------------------------
resource "azurerm_storage_account" "geo" {
  name                     = "acmegeo"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GZRS"
  immutability_policy {
    allow_protected_append_writes = false
    period_since_creation_in_days = 7
    state                         = "Locked"
  }
}

resource "azurerm_storage_account" "local" {
  name                     = "acmelocal"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}

resource "azurerm_storage_container" "evidence" {
  name               = "evidence"
  storage_account_id = azurerm_storage_account.local.id
}

resource "azurerm_storage_container_immutability_policy" "evidence" {
  storage_container_resource_manager_id = azurerm_storage_container.evidence.resource_manager_id
  immutability_period_in_days           = 7
}

# --- Registry modules, not vendored: judged through veil's models ---------------------------------
module "s3_defaults" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-module-defaults"
}

module "s3_protected" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.2"
  bucket  = "acme-module-protected"

  versioning = {
    enabled = true
  }
  object_lock_enabled = true
  object_lock_configuration = {
    rule = {
      default_retention = {
        mode = "GOVERNANCE"
        days = 7
      }
    }
  }
  replication_configuration = {
    role = "arn:aws:iam::123456789012:role/replication"
    rules = [
      {
        id = "everything"
        destination = {
          bucket = "arn:aws:s3:::acme-module-replica"
        }
      }
    ]
  }
}

module "gcs_regional" {
  source     = "terraform-google-modules/cloud-storage/google//modules/simple_bucket"
  version    = "8.0.0"
  name       = "acme-module-regional"
  project_id = "acme"
  location   = "europe-west1"
}

module "gcs_protected" {
  source     = "terraform-google-modules/cloud-storage/google//modules/simple_bucket"
  version    = "8.0.0"
  name       = "acme-module-protected"
  project_id = "acme"
  location   = "EU"
  retention_policy = {
    is_locked        = false
    retention_period = 604800
  }
}

module "gcs_many" {
  source     = "terraform-google-modules/cloud-storage/google"
  version    = "8.0.0"
  project_id = "acme"
  names      = ["frames", "logs"]
  location   = "EU"
  retention_policy = {
    logs = {
      is_locked        = true
      retention_period = 604800
    }
  }
}

module "azure_defaults" {
  source              = "Azure/avm-res-storage-storageaccount/azurerm"
  version             = "0.5.0"
  name                = "acmemoduledefaults"
  location            = "westeurope"
  resource_group_name = "rg"
}

module "azure_protected" {
  source                   = "Azure/avm-res-storage-storageaccount/azurerm"
  version                  = "0.5.0"
  name                     = "acmemoduleprotected"
  location                 = "westeurope"
  resource_group_name      = "rg"
  account_replication_type = "RAGRS"
  immutability_policy = {
    allow_protected_append_writes = false
    period_since_creation_in_days = 7
    state                         = "Unlocked"
  }
}
