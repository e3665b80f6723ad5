"""The only code that talks to AWS: DynamoDB tables (PynamoDB), S3 objects, SQS messages."""
