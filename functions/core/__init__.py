"""Domain: enums, models and errors. No Flask, boto3 or Redis here."""
