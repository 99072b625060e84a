import ChainCore
import HTTPTypes
import Hummingbird

/// The one place where error codes become HTTP statuses.
enum APIError {
    static func status(for code: String) -> HTTPResponse.Status {
        switch code {
        case "malformed", "malformed_json", "malformed_body", "bad_base64", "bad_args", "wrong_chain", "stale_timestamp",
            "decoding_failed", "invalid_parameter", "unknown_contract", "unknown_method", "epcis_bad_query", "bad_code":
            return .badRequest
        case "bad_signature", "bad_certificate", "unknown_ca", "certificate_expired", "certificate_not_yet_valid",
            "wrong_suite", "unauthenticated", "stale_request", "bad_credentials":
            return .unauthorized
        case "role_not_allowed", "forbidden", "account_suspended": return .forbidden
        case "account_locked": return HTTPResponse.Status(code: 423, reasonPhrase: "Locked")
        case "not_found": return .notFound
        case "method_not_allowed": return .methodNotAllowed
        case "duplicate_tx", "already_exists": return .conflict
        case "too_large": return .contentTooLarge
        case "mempool_full", "storage_unavailable", "upstream_unavailable", "gateway_unavailable",
            "accounts_unavailable":
            return .serviceUnavailable
        default: return .internalServerError
        }
    }

    /// `{"error": {"code", "message"}}` with its status (and `Retry-After` on 503).
    static func response(_ error: ChainError) -> Response {
        let status = status(for: error.code)
        var headers: HTTPFields = [:]
        if status == .serviceUnavailable { headers[.retryAfter] = "1" }
        return JSONResponse.make(status: status, .object(["error": errorObject(error)]), headers: headers)
    }

    static func errorObject(_ error: ChainError) -> JSONValue {
        .object(["code": .string(error.code), "message": .string(error.message)])
    }
}

/// Turns every error that escapes a handler into the project's JSON error shape.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let e as ChainError {
            return APIError.response(e)
        } catch let e as any HTTPResponseError {
            let code: String
            switch e.status {
            case .notFound: code = "not_found"
            case .contentTooLarge: code = "too_large"
            case .methodNotAllowed: code = "method_not_allowed"
            case .badRequest: code = "malformed"
            default: code = "http_\(e.status.code)"
            }
            let message =
                e.status == .notFound ? "no route for \(request.method) \(request.uri.path)" : "\(e.status.reasonPhrase)"
            return JSONResponse.make(status: e.status, .object(["error": APIError.errorObject(ChainError(code, message))]))
        } catch {
            return APIError.response(ChainError("internal_error", "\(error)"))
        }
    }
}

/// JSON response helpers.
enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.canonicalBytes)))
    }
}
