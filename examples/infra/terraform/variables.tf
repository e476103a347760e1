variable "environment" {
  description = "Deployment environment name."
  type        = string
  default     = "prod"
}

variable "vpc_cidr" {
  description = "CIDR block of the shop VPC."
  type        = string
  default     = "10.20.0.0/16"
}

variable "db_username" {
  description = "Master user of the orders database."
  type        = string
  default     = "orders_admin"
}

variable "db_password" {
  description = "Master password of the orders database."
  type        = string
  sensitive   = true
}
