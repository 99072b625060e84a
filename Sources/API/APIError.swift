import ChainCore
import HTTPTypes
import Hummingbird
import Logging

/// The one place where error codes become HTTP statuses: each code's kind has one status.
enum APIError {
    static func status(for code: ErrorCode) -> HTTPResponse.Status {
        status(for: code.kind)
    }

    static func status(for kind: ErrorKind) -> HTTPResponse.Status {
        switch kind {
        case .invalid: return .badRequest
        case .unauthenticated: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .notAcceptable: return .notAcceptable
        case .conflict: return .conflict
        case .gone: return .gone
        case .tooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .rejected: return .unprocessableContent
        case .locked: return HTTPResponse.Status(code: 423, reasonPhrase: "Locked")
        case .rateLimited: return .tooManyRequests
        case .peer: return .badGateway
        case .unavailable: return .serviceUnavailable
        case .fault: return .internalServerError
        }
    }

    /// `{"error": {"code", "message"}}` with its status (and `Retry-After` on 503).
    static func response(_ error: ChainError) -> Response {
        let status = status(for: error.code)
        var headers: HTTPFields = [:]
        if status == .serviceUnavailable || status == .tooManyRequests { headers[.retryAfter] = "1" }
        return JSONResponse.make(status: status, .object(["error": errorObject(error)]), headers: headers)
    }

    static func errorObject(_ error: ChainError) -> JSONValue {
        .object(["code": .string(error.code.rawValue), "message": .string(error.message)])
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
            // Hummingbird's own refusals (no route, body too large, bad request line) in the same shape.
            let code: ErrorCode
            switch e.status {
            case .notFound: code = .notFound
            case .contentTooLarge: code = .tooLarge
            case .methodNotAllowed: code = .methodNotAllowed
            case .unauthorized: code = .unauthenticated
            case .forbidden: code = .forbidden
            default: code = e.status.code < 500 ? .malformed : .internalError
            }
            let message =
                e.status == .notFound ? "no route for \(request.method) \(request.uri.path)" : "\(e.status.reasonPhrase)"
            return JSONResponse.make(status: e.status, .object(["error": APIError.errorObject(ChainError(code, message))]))
        } catch {
            context.logger.error("request failed", metadata: ["error": .string("\(error)")])
            return APIError.response(ChainError(.internalError, "\(error)"))
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
