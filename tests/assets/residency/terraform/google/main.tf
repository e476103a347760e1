# Google Cloud: locations, multi- and dual-regions, zones, provider defaults, CDN, clusters.
provider "google" {
  project = "fixture"
  region  = "europe-west1"
}

resource "google_storage_bucket" "multi_region_eu" {
  name     = "fixture-eu"
  location = "EU"
}

resource "google_storage_bucket" "multi_region_us" {
  name     = "fixture-us"
  location = "US"
}

resource "google_storage_bucket" "dual_region_eu" {
  name     = "fixture-eur4"
  location = "EUR4"
}

resource "google_storage_bucket" "dual_region_us" {
  name     = "fixture-nam4"
  location = "NAM4"
}

resource "google_storage_bucket" "configurable_dual_region" {
  name     = "fixture-custom"
  location = "EU"
  custom_placement_config {
    data_locations = ["EUROPE-WEST1", "US-CENTRAL1"]
  }
}

resource "google_sql_database_instance" "primary" {
  name             = "fixture-primary"
  database_version = "POSTGRES_15"
  settings {
    tier = "db-f1-micro"
  }
}

resource "google_sql_database_instance" "replica" {
  name                 = "fixture-replica"
  region               = "us-central1"
  master_instance_name = google_sql_database_instance.primary.name
  database_version     = "POSTGRES_15"
  settings {
    tier = "db-f1-micro"
  }
}

resource "google_container_cluster" "zonal" {
  name     = "fixture-gke"
  location = "asia-northeast1-a"
}

resource "google_bigquery_dataset" "analytics" {
  dataset_id = "fixture"
  location   = "US"
}

resource "google_compute_backend_bucket" "cdn" {
  name        = "fixture-cdn"
  bucket_name = google_storage_bucket.multi_region_eu.name
  enable_cdn  = true
}

resource "google_spanner_instance" "regional" {
  name         = "fixture-spanner"
  config       = "regional-europe-west4"
  display_name = "fixture"
}

# Global: no placement.
resource "google_compute_network" "vpc" {
  name = "fixture"
}

resource "google_project_iam_member" "viewer" {
  project = "fixture"
  role    = "roles/viewer"
  member  = "user:someone@example.com"
}
