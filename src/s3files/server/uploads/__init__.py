"""Direct-to-store uploads: presigned POST forms and multipart uploads, completed by the
service after it has checked the object."""
