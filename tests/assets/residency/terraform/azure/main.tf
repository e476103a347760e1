# Azure: locations (display names too), geo-redundant storage to the paired region,
# geo-redundant backups, Cosmos DB geo-locations, AKS, CDN.
provider "azurerm" {
  features {}
}

resource "azurerm_resource_group" "main" {
  name     = "fixture"
  location = "West Europe"
}

resource "azurerm_storage_account" "grs" {
  name                     = "fixturegrs"
  resource_group_name      = azurerm_resource_group.main.name
  location                 = azurerm_resource_group.main.location
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_account" "lrs_us" {
  name                     = "fixturelrs"
  resource_group_name      = azurerm_resource_group.main.name
  location                 = "eastus"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}

resource "azurerm_storage_account" "grs_unpaired" {
  name                     = "fixtureunpaired"
  resource_group_name      = azurerm_resource_group.main.name
  location                 = "polandcentral"
  account_tier             = "Standard"
  account_replication_type = "RAGRS"
}

resource "azurerm_storage_account" "grs_brazil" {
  name                     = "fixturebrazil"
  resource_group_name      = azurerm_resource_group.main.name
  location                 = "brazilsouth"
  account_tier             = "Standard"
  account_replication_type = "GZRS"
}

resource "azurerm_cosmosdb_account" "orders" {
  name                = "fixture-cosmos"
  location            = "northeurope"
  resource_group_name = azurerm_resource_group.main.name
  offer_type          = "Standard"
  consistency_policy {
    consistency_level = "Session"
  }
  geo_location {
    location          = "northeurope"
    failover_priority = 0
  }
  geo_location {
    location          = "eastus2"
    failover_priority = 1
  }
}

resource "azurerm_mssql_server" "main" {
  name                = "fixture-sql"
  resource_group_name = azurerm_resource_group.main.name
  location            = "uksouth"
  version             = "12.0"
}

resource "azurerm_mssql_database" "orders" {
  name      = "orders"
  server_id = azurerm_mssql_server.main.id
}

resource "azurerm_postgresql_flexible_server" "main" {
  name                         = "fixture-pg"
  resource_group_name          = azurerm_resource_group.main.name
  location                     = "germanywestcentral"
  geo_redundant_backup_enabled = true
}

resource "azurerm_kubernetes_cluster" "main" {
  name                = "fixture-aks"
  location            = "swedencentral"
  resource_group_name = azurerm_resource_group.main.name
  dns_prefix          = "fixture"
}

resource "azurerm_cdn_profile" "cdn" {
  name                = "fixture-cdn"
  location            = "global"
  resource_group_name = azurerm_resource_group.main.name
  sku                 = "Standard_Microsoft"
}
