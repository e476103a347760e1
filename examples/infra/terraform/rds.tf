resource "aws_db_subnet_group" "orders" {
  name       = "orders"
  subnet_ids = [aws_subnet.private_a.id, aws_subnet.private_b.id]
}

# planted: P42, P43 (unencrypted storage, reachable from the internet)
resource "aws_db_instance" "orders" {
  identifier              = "orders-${var.environment}"
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = "db.t3.medium"
  allocated_storage       = 50
  db_name                 = "orders"
  username                = var.db_username
  password                = var.db_password
  db_subnet_group_name    = aws_db_subnet_group.orders.name
  vpc_security_group_ids  = [aws_security_group.orders_db.id]
  storage_encrypted       = false
  publicly_accessible     = true
  backup_retention_period = 7
  skip_final_snapshot     = true

  tags = {
    service = "api"
  }
}
