"""OSS wire errors: one class per error code, rendered once as OSS XML (see xml.render_error)."""

from __future__ import annotations


class OssError(Exception):
    """Base: an OSS error answer with its real HTTP status and code."""

    status = 400
    code = "InvalidRequest"
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, **details: str):
        self.message = message or self.default_message
        # extra XML children OSS adds to some errors (BucketName, Key, UploadId, ...)
        self.details = {k: v for k, v in details.items() if v is not None}
        self.headers: dict[str, str] = {}  # extra response headers some errors carry
        super().__init__(f"{self.code}: {self.message}")


def _error(name: str, status: int, message: str) -> type[OssError]:
    cls = type(name, (OssError,), {"status": status, "code": name, "default_message": message})
    return cls


AccessDenied = _error("AccessDenied", 403, "You have no right to access this object.")
SignatureDoesNotMatch = _error(
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method.",
)
InvalidAccessKeyId = _error(
    "InvalidAccessKeyId", 403, "The OSS Access Key Id you provided does not exist in our records."
)
InvalidSecurityToken = _error(
    "InvalidSecurityToken", 403, "The security token you provided is invalid."
)
RequestTimeTooSkewed = _error(
    "RequestTimeTooSkewed",
    403,
    "The difference between the request time and the current time is too large.",
)
InvalidObjectState = _error(
    "InvalidObjectState", 403, "The operation is not valid for the object's state."
)
NoSuchBucket = _error("NoSuchBucket", 404, "The specified bucket does not exist.")
NoSuchKey = _error("NoSuchKey", 404, "The specified key does not exist.")
NoSuchUpload = _error(
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
)
BucketAlreadyExists = _error(
    "BucketAlreadyExists", 409, "The requested bucket name is not available."
)
BucketNotEmpty = _error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty.")
RestoreAlreadyInProgress = _error(
    "RestoreAlreadyInProgress", 409, "The restore operation is in progress."
)
InvalidBucketName = _error("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidObjectName = _error("InvalidObjectName", 400, "The specified object name is not valid.")
InvalidArgument = _error("InvalidArgument", 400, "Invalid argument.")
InvalidDigest = _error("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
BadDigest = _error(
    "BadDigest", 400, "The Content-MD5 you specified did not match what we received."
)
InvalidPart = _error(
    "InvalidPart",
    400,
    "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
)
InvalidPartOrder = _error(
    "InvalidPartOrder",
    400,
    "The list of parts was not in ascending order. Parts list must be specified in order by part number.",
)
EntityTooSmall = _error(
    "EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size."
)
EntityTooLarge = _error(
    "EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size."
)
MalformedXML = _error(
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema.",
)
MissingContentLength = _error(
    "MissingContentLength", 411, "You must provide the Content-Length HTTP header."
)
IncompleteBody = _error(
    "IncompleteBody",
    400,
    "You did not provide the number of bytes specified by the Content-Length HTTP header.",
)
InvalidRequest = _error("InvalidRequest", 400, "The request is invalid.")
InvalidStorageClass = _error(
    "InvalidStorageClass", 400, "The storage class you specified is not valid."
)
InvalidRange = _error("InvalidRange", 416, "The requested range cannot be satisfied.")
PreconditionFailed = _error(
    "PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold."
)
NotModified = _error("NotModified", 304, "Not Modified.")
MethodNotAllowed = _error(
    "MethodNotAllowed", 405, "The specified method is not allowed against this resource."
)
NotImplementedOp = type(
    "NotImplemented",
    (OssError,),
    {
        "status": 501,
        "code": "NotImplemented",
        "default_message": "This operation is not implemented by localcloud.",
    },
)
MalformedPOSTRequest = _error(
    "MalformedPOSTRequest",
    400,
    "The body of your POST request is not well-formed multipart/form-data.",
)
TooManyBuckets = _error(
    "TooManyBuckets", 400, "You have attempted to create more buckets than allowed."
)
SlowDown = _error("SlowDown", 503, "Please reduce your request rate.")
InternalError = _error("InternalError", 500, "We encountered an internal error. Please try again.")
FileAlreadyExists = _error(
    "FileAlreadyExists", 409, "The object you specified already exists and can not be overwritten."
)
OperationNotSupported = _error(
    "OperationNotSupported", 400, "The operation is not supported for this resource."
)
InvalidPolicyDocument = _error(
    "InvalidPolicyDocument",
    400,
    "The content of the form does not meet the conditions specified in the policy document.",
)
ObjectNotAppendable = _error("ObjectNotAppendable", 409, "The object is not appendable.")
PositionNotEqualToLength = _error(
    "PositionNotEqualToLength", 409, "Position is not equal to file length."
)
InvalidTag = _error("InvalidTag", 400, "The tag provided was not a valid tag.")
SymlinkTargetNotExist = _error(
    "SymlinkTargetNotExist", 404, "The symlink target object does not exist."
)
InvalidTargetType = _error(
    "InvalidTargetType", 400, "The symlink target object type is not supported."
)
NoSuchVersion = _error("NoSuchVersion", 404, "The specified version does not exist.")
NotSymlink = _error("NotSymlink", 400, "The specified object is not a symlink.")
